/* URL state for the layout request, and keyboard / empty-space handling for the graph:
   Esc clears the selection; a click on empty graph space (not a drag, not on a marker)
   clears it too. Both press the hidden #clear-selection button. Prompt tokens mirror the
   focused column. */
(function () {
  /* The layout is built from the URL: pass the page's query string to Dash's layout request. */
  var originalFetch = window.fetch;
  window.fetch = function (resource, init) {
    if (typeof resource === "string" && /_dash-layout$/.test(resource) && window.location.search) {
      resource = resource + window.location.search;
    }
    return originalFetch.call(this, resource, init);
  };

  function clear() {
    var button = document.getElementById("clear-selection");
    if (button) { button.click(); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !(event.target && event.target.tagName === "INPUT")) { clear(); }
  });
  var down = null;
  var pointClicked = false;
  document.addEventListener("mousedown", function (event) {
    var plot = event.target && event.target.closest && event.target.closest("#attribution-graph");
    down = plot ? { x: event.clientX, y: event.clientY, t: Date.now() } : null;
    pointClicked = false;
    if (plot) {
      var gd = plot.querySelector(".js-plotly-plot");
      if (gd && !gd._avClickHooked && gd.on) {
        gd._avClickHooked = true;
        gd.on("plotly_click", function () { pointClicked = true; });
      }
    }
  }, true);
  document.addEventListener("mouseup", function (event) {
    if (!down) { return; }
    var moved = Math.abs(event.clientX - down.x) + Math.abs(event.clientY - down.y) > 4;
    var target = event.target;
    var onPlotArea = target && target.classList && target.classList.contains("nsewdrag");
    down = null;
    if (moved || !onPlotArea) { return; }
    setTimeout(function () { if (!pointClicked) { clear(); } }, 60);
  }, true);
})();
