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

/* Clientside callbacks (registered in attribution_viewer/app/callbacks.py): the selection,
   pins and labels change in the browser without a server round trip. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  attributionViewer: {
    /* graph click, connection row, Esc / empty click, search with one match -> node key */
    selectNode: function (click, rowClicks, clearClicks, searchKeys, keys) {
      var noUpdate = window.dash_clientside.no_update;
      var triggered = window.dash_clientside.callback_context.triggered || [];
      if (!triggered.length) { return noUpdate; }
      var propId = triggered[0].prop_id;
      var source = propId.slice(0, propId.lastIndexOf("."));
      if (source === "clear-selection") { return null; }
      if (source === "attribution-graph") {
        var points = (click && click.points) || [];
        if (!points.length || points[0].customdata === undefined || points[0].customdata === null) {
          return noUpdate;
        }
        return keys[points[0].customdata];
      }
      if (source === "search-results") {
        return searchKeys && searchKeys.length === 1 ? searchKeys[0] : noUpdate;
      }
      if (source.charAt(0) === "{" && triggered[0].value) {
        return JSON.parse(source).key;  /* a connection row was clicked (not just rendered) */
      }
      return noUpdate;
    },
    /* the panel now shows the selection: let the figure highlight it */
    panelNode: function (children, selected, current) {
      return selected === current ? window.dash_clientside.no_update : selected;
    },
    togglePin: function (nClicks, selected, pinned) {
      if (!nClicks || !selected) { return window.dash_clientside.no_update; }
      pinned = pinned || [];
      return pinned.indexOf(selected) >= 0
        ? pinned.filter(function (key) { return key !== selected; })
        : pinned.concat([selected]);
    },
    saveLabel: function (nClicks, nSubmit, text, selected, labels) {
      if (!(nClicks || nSubmit) || !selected) { return window.dash_clientside.no_update; }
      var out = Object.assign({}, labels || {});
      text = (text || "").trim();
      if (text) { out[selected] = text; } else { delete out[selected]; }
      return out;
    }
  }
});

