/* The "labels" toggle (app/node_labels.py): node labels as an HTML overlay above the plot.

   While the toggle is on, the plot's frame (axis ranges, plot size in px) is written into
   the "label-frame" store after a zoom, pan, resize, new figure or new selection, at most
   once per LABEL_DEBOUNCE_MS; the server places the labels that fit (attribution_viewer.
   labels, the same placement as the exports) and answers with "label-layer": per label its
   node key, the node's data coordinates, its box relative to the node in px, and its text.
   Each label is a div of exactly that box (text cut with an ellipsis when the browser's
   font is wider than estimated; a span inside carries the white background, as wide as the
   text), so drawn labels never overlap. While the user drags or
   scrolls, labels move with their nodes; the new placement follows at the end. With the
   toggle off nothing is requested and the overlay is empty. */
var attributionLabels = (function () {
  var LABEL_DEBOUNCE_MS = 120;
  var on = false;
  var payload = null;
  var hooked = null;
  var timer = null;
  var serial = 0;
  var sentKey = null;

  function graphDiv() { return document.querySelector("#attribution-graph .js-plotly-plot"); }

  function frameOf(gd) {
    var full = gd && gd._fullLayout;
    if (!full || !full.xaxis || !full.yaxis || !full.xaxis._length) { return null; }
    var xa = full.xaxis, ya = full.yaxis;
    return { x: [xa.range[0], xa.range[1]], y: [ya.range[0], ya.range[1]], w: xa._length, h: ya._length,
      left: xa._offset, top: ya._offset };
  }

  function overlay(gd) {
    var container = gd.querySelector(".svg-container");
    if (!container) { return null; }
    var layer = container.querySelector("div.label-layer");
    if (!layer) {
      layer = document.createElement("div");
      layer.className = "label-layer";
      /* above the markers, under the hover boxes (plotly's last svg) */
      var svgs = container.querySelectorAll(":scope > svg.main-svg");
      container.insertBefore(layer, svgs.length > 1 ? svgs[svgs.length - 1] : null);
    }
    return layer;
  }

  /* Position every label beside its node for the current axis ranges. */
  function place() {
    var gd = graphDiv();
    var frame = frameOf(gd);
    var layer = frame && overlay(gd);
    if (!layer) { return; }
    layer.style.left = frame.left + "px";
    layer.style.top = frame.top + "px";
    layer.style.width = frame.w + "px";
    layer.style.height = frame.h + "px";
    var sx = frame.w / (frame.x[1] - frame.x[0]), sy = frame.h / (frame.y[1] - frame.y[0]);
    layer.querySelectorAll("div.node-label").forEach(function (div) {
      var px = (Number(div.dataset.x) - frame.x[0]) * sx, py = frame.h - (Number(div.dataset.y) - frame.y[0]) * sy;
      div.style.left = (px + Number(div.dataset.dx)) + "px";
      div.style.top = (py + Number(div.dataset.dy)) + "px";
    });
  }

  /* Build the overlay's labels from the last payload (none when off). */
  function draw() {
    var gd = graphDiv();
    var layer = gd && overlay(gd);
    if (!layer) { return; }
    var rows = on && payload ? payload.labels : [];
    var font = payload ? payload.font : 11;
    var children = rows.map(function (row) {
      var div = document.createElement("div");
      div.className = "node-label " + row[8];  /* its side of the node: text aligned to it */
      div.dataset.key = row[0];
      div.dataset.x = row[1];
      div.dataset.y = row[2];
      div.dataset.dx = row[3];
      div.dataset.dy = row[4];
      div.style.width = row[5] + "px";
      div.style.height = row[6] + "px";
      div.style.lineHeight = row[6] + "px";
      div.style.fontSize = font + "px";
      var text = document.createElement("span");  /* the white background: as wide as the text */
      text.textContent = row[7];
      div.appendChild(text);
      return div;
    });
    layer.replaceChildren.apply(layer, children);
    layer.dataset.count = String(children.length);
    layer.dataset.serial = on && payload ? String(payload.serial) : "";
    place();
  }

  /* Ask the server for the labels of the current frame (debounced); ``force``: even when
     the frame is the one last sent (the figure or the selection changed). */
  function request(force) {
    if (!on) { return; }
    clearTimeout(timer);
    timer = setTimeout(function () {
      var frame = frameOf(graphDiv());
      if (!frame || !on) { return; }
      var key = JSON.stringify(frame);
      if (!force && key === sentKey) { return; }
      sentKey = key;
      frame.serial = ++serial;
      var layer = overlay(graphDiv());
      if (layer) {  /* what was asked for last (tests wait for its answer) */
        layer.dataset.requested = String(serial);
        layer.dataset.requestedRange = frame.x.concat(frame.y).join(",");
      }
      window.dash_clientside.set_props("label-frame", { data: frame });
    }, LABEL_DEBOUNCE_MS);
  }

  /* Hook the plot's events once per graph div (dcc.Graph may create a new one). */
  function hook(triesLeft) {
    var gd = graphDiv();
    if (gd && gd.on && gd._fullLayout && gd._fullLayout.xaxis) {
      if (hooked !== gd) {
        hooked = gd;
        gd.on("plotly_relayouting", place);
        gd.on("plotly_relayout", function () { place(); request(false); });
        gd.on("plotly_afterplot", function () { place(); request(false); });
      }
      request(true);
    } else if (triesLeft > 0) {
      window.requestAnimationFrame(function () { hook(triesLeft - 1); });
    }
  }

  return {
    wanted: function (toggle) {
      on = (toggle || []).indexOf("labels") >= 0;
      if (on) { hook(600); } else { clearTimeout(timer); sentKey = null; draw(); }
    },
    set: function (data) { payload = data; draw(); }
  };
})();

window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.attributionViewer = Object.assign(window.dash_clientside.attributionViewer || {}, {
  /* the toggle, a new figure or a new selection: labels asked for when on, cleared when off */
  labelsWanted: function (toggle) { attributionLabels.wanted(toggle); },
  /* the server's placement: drawn */
  drawLabels: function (data) { attributionLabels.set(data); }
});
