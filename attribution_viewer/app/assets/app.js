/* The browser side of the graph view, in four parts:
   1. page wiring: the URL's query for the layout request; Esc and a click on empty graph
      space (not a drag, not on a marker) press the hidden #clear-selection button; a click
      on a marker or on a connection row (button.conn-row[data-key]) selects its node;
   2. the node panel's connection rows, built from one JSON attribute;
   3. the edge canvases under the plot (attributionEdges);
   4. the clientside callbacks (selection, URL node parameter, pins, labels, canvases). */
(function () {
  /* The layout is built from the URL: pass the page's query string to Dash's layout request.
     A folder of graphs (app/folder.py): every callback request (and the node panel's
     route, assets/node_panel.js) names the page's graph in a header, so the server routes it to that graph's app (the URL may change later). */
  var originalFetch = window.fetch;
  var pageGraph = new URLSearchParams(window.location.search).get("graph");
  window.fetch = function (resource, init) {
    if (typeof resource === "string" && /_dash-layout$/.test(resource) && window.location.search) {
      resource = resource + window.location.search;
    }
    if (pageGraph !== null && typeof resource === "string" && /(_dash-update-component|_attrview\/node-panel)(\?|$)/.test(resource)) {
      init = Object.assign({}, init);
      var headers = new Headers(init.headers || {});
      headers.set("X-Attribution-Graph", pageGraph);
      init.headers = headers;
    }
    return originalFetch.call(this, resource, init);
  };

  function clear() {
    var button = document.getElementById("clear-selection");
    if (button) { button.click(); }
  }
  /* A connection row (button.conn-row[data-key], app/node_panel.py) selects its node. */
  document.addEventListener("click", function (event) {
    var row = event.target && event.target.closest && event.target.closest(".conn-row[data-key]");
    if (row && window.dash_clientside && window.dash_clientside.set_props) {
      attributionPanel.select(row.getAttribute("data-key"));  /* assets/node_panel.js */
    }
  });
  /* ... and shows its key as the tooltip (not sent with every row: a click sends them all). */
  document.addEventListener("mouseover", function (event) {
    var row = event.target && event.target.closest && event.target.closest(".conn-row[data-key]");
    if (row && !row.title) { row.title = row.getAttribute("data-key"); }
  });
  /* Esc closes an open menu (the Export menu, from anywhere in it); otherwise, outside
     text fields, it clears the selection. */
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var menu = document.querySelector("details.export-menu[open]");
    if (menu) { menu.removeAttribute("open"); return; }
    if (!(event.target && event.target.tagName === "INPUT")) { clear(); }
  });
  /* A click on a marker selects its node here (issue #10): the panel asks its route
     (attributionPanel.select, assets/node_panel.js) and tells Dash the selection once the
     panel is painted, without a clientside callback on the graph's clickData first (that
     hop cost the renderer a second update before the panel's request). A press on a
     marker's disc (markerKeyAt) asks the route at once (prefetch) and its release selects
     that node (select reuses the answer); plotly_click then selects only a node the
     pointer was near but not on (plotly takes markers within a few pixels). The node keys
     come from the "node-keys" store (rememberNodeKeys below). */
  var pressedKey = null;   /* the node under this press, or null */
  var releasedKey = null;  /* the node this release selected (plotly_click leaves it) */
  function selectClickedPoint(data) {
    var points = (data && data.points) || [];
    var index = points.length ? points[0].customdata : null;
    var keys = window.attributionNodeKeys;
    if (index === undefined || index === null || !keys || keys[index] === undefined) { return; }
    if (releasedKey !== null) { return; }
    if (window.dash_clientside && window.dash_clientside.set_props) { attributionPanel.select(keys[index]); }
  }
  /* The node whose marker disc holds the pointer (the closest such marker), or null. */
  function markerKeyAt(gd, event) {
    var full = gd._fullLayout, keys = window.attributionNodeKeys;
    var xa = full && full.xaxis, ya = full && full.yaxis;
    if (!xa || !ya || !xa.c2p || !gd.calcdata || !keys) { return null; }
    var box = gd.getBoundingClientRect();
    var x = event.clientX - box.left - xa._offset, y = event.clientY - box.top - ya._offset;
    var best = null, bestDistance = Infinity;
    gd.calcdata.forEach(function (points) {
      var trace = points[0] && points[0].trace;
      if (!trace || trace.visible !== true || !trace.customdata || trace.type !== "scatter") { return; }
      points.forEach(function (point) {
        var distance = Math.hypot(xa.c2p(point.x) - x, ya.c2p(point.y) - y);
        if (distance <= (point.mrc || 0) && distance < bestDistance) {
          bestDistance = distance;
          best = keys[trace.customdata[point.i]];
        }
      });
    });
    return best === undefined ? null : best;
  }
  var down = null;
  var pointClicked = false;
  document.addEventListener("mousedown", function (event) {
    var plot = event.target && event.target.closest && event.target.closest("#attribution-graph");
    down = plot ? { x: event.clientX, y: event.clientY, t: Date.now() } : null;
    pointClicked = false;
    pressedKey = releasedKey = null;
    if (plot) {
      var gd = plot.querySelector(".js-plotly-plot");
      if (gd && !gd._avClickHooked && gd.on && gd.removeAllListeners) {
        gd._avClickHooked = true;
        /* dcc.Graph writes clickData / hoverData on every click and hover: a Dash store
           update that costs the renderer ~20 ms with ~250 components on the page, paid
           before this click's panel could be asked for. No callback reads them for the main
           graph (clicks are handled here), so its listeners are removed. */
        ["plotly_click", "plotly_hover", "plotly_unhover"].forEach(function (name) { gd.removeAllListeners(name); });
        gd.on("plotly_click", function () { pointClicked = true; });
        gd.on("plotly_click", selectClickedPoint);
      }
      pressedKey = gd && event.button === 0 ? markerKeyAt(gd, event) : null;
      if (pressedKey !== null) { attributionPanel.prefetch(pressedKey); }  /* assets/node_panel.js */
    }
  }, true);
  document.addEventListener("mouseup", function (event) {
    if (!down) { return; }
    var moved = Math.abs(event.clientX - down.x) + Math.abs(event.clientY - down.y) > 4;
    var target = event.target;
    var onPlotArea = target && target.classList && target.classList.contains("nsewdrag");
    down = null;
    if (moved || !onPlotArea) { return; }
    if (pressedKey !== null && window.dash_clientside && window.dash_clientside.set_props) {
      releasedKey = pressedKey;
      pointClicked = true;
      attributionPanel.select(pressedKey);
      return;
    }
    setTimeout(function () { if (!pointClicked) { clear(); } }, 60);
  }, true);
})();

/* Connection rows (issue #10). The node panel carries its connections as one JSON
   attribute, div.conn-groups[data-groups] (app/node_panel.py connection_groups: groups of
   {title, sign, rows: [[key, text, weight text]]}), not as 80 Dash components; they are
   built here as div.conn-group > div.conn-title + div.conn-list > button.conn-row[data-key]
   [data-weight] when the attribute appears or changes. A MutationObserver callback runs
   before the next paint, so the rows show in the same frame as the rest of the panel.
   Text goes in through textContent / setAttribute only (descriptions are untrusted). */
(function () {
  function element(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className;
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function build(box) {
    var data = box.getAttribute("data-groups");
    if (box._avBuilt === data) { return; }
    box._avBuilt = data;
    var groups;
    try { groups = JSON.parse(data || "[]"); } catch (e) { groups = []; }
    var fragment = document.createDocumentFragment();
    groups.forEach(function (group) {
      var div = element("div", "conn-group");
      div.appendChild(element("div", "conn-title " + group.sign, group.title));
      var list = element("div", "conn-list");
      group.rows.forEach(function (row) {
        var button = element("button", "conn-row " + group.sign, row[1]);
        button.setAttribute("data-key", row[0]);
        button.setAttribute("data-weight", row[2]);
        list.appendChild(button);
      });
      div.appendChild(list);
      fragment.appendChild(div);
    });
    box.replaceChildren(fragment);
  }
  function scan(node) {
    if (node.nodeType !== 1) { return; }
    if (node.matches("div.conn-groups[data-groups]")) { build(node); return; }
    if (node.firstElementChild) { node.querySelectorAll("div.conn-groups[data-groups]").forEach(build); }
  }
  var observer = new MutationObserver(function (records) {
    records.forEach(function (record) {
      if (record.type === "attributes") { scan(record.target); } else { record.addedNodes.forEach(scan); }
    });
  });
  function start() {
    observer.observe(document.body, { childList: true, subtree: true, attributes: true,
      attributeFilter: ["data-groups"] });
    scan(document.body);
  }
  if (document.body) { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();

/* The edge canvases, under the plot's transparent SVG: "edge-layer" (the drawn edges,
   attribution_viewer.canvas.base_edge_layer) on canvas.edge-layer and "selection-layer"
   (the selected node's edges and rings, canvas.selection_layer) on canvas.selection-layer
   above it, both in a box clipped to the plot area. Each canvas is redrawn only when its
   data, the axis ranges or the plot size change; while the user drags or scrolls, the
   drawn bitmaps are moved and scaled with a CSS transform (redrawing thousands of edges
   per mouse move would stutter), and redrawn at the end. A click redraws only the small
   selection canvas, never the SVG figure. */
var attributionEdges = (function () {
  var base = null;
  var selection = null;
  var hooked = null;
  var drawnKey = { base: null, selection: null };
  var drawnView = null;

  function decode(text, Type) {
    var binary = atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return new Type(bytes.buffer);
  }
  function indexType(data) { return data.index_bytes === 2 ? Uint16Array : Uint32Array; }

  function graphDiv() { return document.querySelector("#attribution-graph .js-plotly-plot"); }

  /* The plot area and the axis ranges now (pixels relative to the plot area). */
  function currentView(full) {
    var xa = full.xaxis, ya = full.yaxis;
    return { left: xa._offset, top: ya._offset, width: xa._length, height: ya._length,
      x0: xa.range[0], x1: xa.range[1], y0: ya.range[0], y1: ya.range[1] };
  }

  function box(gd) {
    var container = gd.querySelector(".svg-container");
    if (!container) { return null; }
    var clip = container.querySelector("div.edge-box");
    if (!clip) {
      clip = document.createElement("div");
      clip.className = "edge-box";
      ["edge-layer", "selection-layer"].forEach(function (name) {
        var canvas = document.createElement("canvas");
        canvas.className = name;
        clip.appendChild(canvas);
      });
      container.insertBefore(clip, container.firstChild);
    }
    return clip;
  }

  /* Stroke each batch's (source, target) pairs; returns how many edges were drawn. Faded
     batches (canvas.py: "faded", "max_opacity") get more opaque as the user zooms in. */
  function strokeBatches(c, layer, px, py, zoom) {
    var ends = layer.ends, k = 0, drawn = 0;
    layer.batches.forEach(function (batch) {
      c.beginPath();
      c.strokeStyle = batch.color;
      c.lineWidth = batch.width;
      c.globalAlpha = fadedOpacity(batch, zoom);
      for (var stop = k + 2 * batch.count; k < stop; k += 2) {
        c.moveTo(px(ends[k]), py(ends[k]));
        c.lineTo(px(ends[k + 1]), py(ends[k + 1]));
      }
      c.stroke();
      drawn += batch.count;
    });
    return drawn;
  }

  /* fog-edges: faded edges at this zoom (begin) */
  function fadedOpacity(batch, zoom) {
    return batch.faded ? Math.min(batch.max_opacity, batch.opacity * zoom) : batch.opacity;
  }
  /* How far the view is zoomed in on the graph: the graph's extent over the shown range
     (the smaller of x and y), at least 1. */
  function zoomFactor(layer, view) {
    if (!layer || !layer.extent) { return 1; }
    var zx = layer.extent[0] / Math.abs(view.x1 - view.x0), zy = layer.extent[1] / Math.abs(view.y1 - view.y0);
    return Math.max(1, Math.min(zx, zy));
  }
  function span(values) {
    var lo = Infinity, hi = -Infinity;
    for (var i = 0; i < values.length; i++) {
      if (values[i] === values[i]) { lo = Math.min(lo, values[i]); hi = Math.max(hi, values[i]); }
    }
    return hi > lo ? hi - lo : 1;
  }
  /* fog-edges (end) */

  function ring(c, x, y, size, width, color) {
    c.beginPath();
    c.globalAlpha = 1;
    c.strokeStyle = color;
    c.lineWidth = width;
    c.arc(x, y, size / 2, 0, 2 * Math.PI);
    c.stroke();
  }

  /* A canvas sized to the plot area, cleared, untransformed; returns its 2D context. */
  function fresh(canvas, view) {
    var ratio = window.devicePixelRatio || 1;
    var w = Math.max(1, Math.round(view.width * ratio)), h = Math.max(1, Math.round(view.height * ratio));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      canvas.style.width = view.width + "px";
      canvas.style.height = view.height + "px";
    }
    canvas.style.transform = "";
    var c = canvas.getContext("2d");
    c.setTransform(ratio, 0, 0, ratio, 0, 0);
    c.clearRect(0, 0, view.width, view.height);
    return c;
  }

  function draw() {
    var gd = graphDiv();
    var full = gd && gd._fullLayout;
    if (!full || !full.xaxis || !full.yaxis) { return; }
    var clip = box(gd);
    if (!clip) { return; }
    var view = currentView(full);
    var viewKey = JSON.stringify(view);
    clip.style.left = view.left + "px";
    clip.style.top = view.top + "px";
    clip.style.width = view.width + "px";
    clip.style.height = view.height + "px";
    var baseCanvas = clip.querySelector("canvas.edge-layer");
    var selCanvas = clip.querySelector("canvas.selection-layer");
    var xs = base ? base.x : null, ys = base ? base.y : null;
    var sx = view.width / (view.x1 - view.x0), sy = view.height / (view.y1 - view.y0);
    var px = function (node) { return (xs[node] - view.x0) * sx; };
    var py = function (node) { return view.height - (ys[node] - view.y0) * sy; };

    var baseKey = viewKey + "|" + (base ? base.id : "");
    if (drawnKey.base !== baseKey) {
      var c = fresh(baseCanvas, view), zoom = zoomFactor(base, view);
      baseCanvas.setAttribute("data-edges", String(base ? strokeBatches(c, base, px, py, zoom) : 0));
      var faded = base ? base.batches.filter(function (b) { return b.faded; }) : [];
      baseCanvas.setAttribute("data-faded-edges", String(faded.reduce(function (n, b) { return n + b.count; }, 0)));
      baseCanvas.setAttribute("data-faded-opacity", faded.length ? String(fadedOpacity(faded[0], zoom)) : "");
      drawnKey.base = baseKey;
    }
    var selKey = baseKey + "|" + (selection ? selection.id : "");
    if (drawnKey.selection !== selKey) {
      var d = fresh(selCanvas, view), selected = 0;
      if (base && selection) {
        selected = strokeBatches(d, selection, px, py, 1);
        var rings = selection.rings;
        for (var i = 0; i < selection.neighbours.length; i++) {
          var node = selection.neighbours[i];
          ring(d, px(node), py(node), rings.neighbour.size, rings.neighbour.width,
            selection.sign_colors[String(selection.neighbour_signs[i])]);
        }
        ring(d, px(selection.selected), py(selection.selected), rings.selected.size,
          rings.selected.width, rings.selected.color);
      }
      baseCanvas.setAttribute("data-selected-edges", String(selected));
      baseCanvas.setAttribute("data-selected", selection ? String(selection.selected) : "");
      drawnKey.selection = selKey;
    }
    drawnView = view;
  }

  /* During a drag or scroll: move and scale the drawn bitmaps to the new axis ranges. */
  function follow() {
    var gd = graphDiv();
    var full = gd && gd._fullLayout;
    if (!full || !full.xaxis || !drawnView) { return; }
    var now = currentView(full), was = drawnView;
    var scaleX = (was.x1 - was.x0) / (now.x1 - now.x0), scaleY = (was.y1 - was.y0) / (now.y1 - now.y0);
    var shiftX = (was.x0 - now.x0) * now.width / (now.x1 - now.x0);
    var shiftY = (now.y1 - was.y1) * now.height / (now.y1 - now.y0);
    var transform = "matrix(" + scaleX + ",0,0," + scaleY + "," + shiftX + "," + shiftY + ")";
    gd.querySelectorAll("div.edge-box canvas").forEach(function (canvas) {
      canvas.style.transformOrigin = "0 0";
      canvas.style.transform = transform;
    });
  }

  /* Hook the plot's events once per graph div (dcc.Graph may create a new one). */
  function hook(triesLeft) {
    var gd = graphDiv();
    if (gd && gd.on && gd._fullLayout && gd._fullLayout.xaxis) {
      if (hooked !== gd) {
        hooked = gd;
        drawnKey = { base: null, selection: null };
        gd.on("plotly_afterplot", draw);
        gd.on("plotly_relayouting", follow);
        gd.on("plotly_relayout", draw);
      }
      draw();
    } else if (triesLeft > 0) {
      window.requestAnimationFrame(function () { hook(triesLeft - 1); });
    }
  }

  var serial = 0;
  var lastBaseData;
  return {
    set: function (baseData, selectionData) {
      if (baseData !== lastBaseData) {  /* decode the base edges only when they are new */
        lastBaseData = baseData;
        base = baseData ? {
          id: ++serial,
          x: decode(baseData.x, Float32Array),
          y: decode(baseData.y, Float32Array),
          ends: decode(baseData.ends, indexType(baseData)),
          batches: baseData.batches
        } : null;
        if (base) { base.extent = [span(base.x), span(base.y)]; }
      }
      selection = selectionData ? {
        id: ++serial,
        ends: decode(selectionData.ends, indexType(selectionData)),
        batches: selectionData.batches,
        selected: selectionData.selected,
        neighbours: decode(selectionData.neighbours, indexType(selectionData)),
        neighbour_signs: decode(selectionData.neighbour_signs, Int8Array),
        sign_colors: selectionData.sign_colors,
        rings: selectionData.rings
      } : null;
      /* drawn at the next frame: the panel that came in the same response paints first */
      window.requestAnimationFrame(function () { hook(600); });
    }
  };
})();

/* the sliders' settle delay and the latest change of each slider (settleValue) */
var SETTLE_MS = 200;
var settleTokens = {};

/* Clientside callbacks (registered by the units in attribution_viewer/app/: graph_view.py,
   node_panel.py, page.py): the selection, pins and labels change in the browser without a
   server round trip; the node panel's one request (its route, assets/node_panel.js) brings
   the panel and the selection layer together. */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  attributionViewer: {
    /* the node keys (index -> key) for graph clicks (selectClickedPoint, page wiring) */
    rememberNodeKeys: function (keys) { window.attributionNodeKeys = keys; },
    /* Esc / empty click, search with one match -> node key (graph clicks: selectClickedPoint) */
    selectNode: function (clearClicks, searchKeys) {
      var noUpdate = window.dash_clientside.no_update;
      var triggered = window.dash_clientside.callback_context.triggered || [];
      if (!triggered.length) { return noUpdate; }
      var propId = triggered[0].prop_id;
      var source = propId.slice(0, propId.lastIndexOf("."));
      if (source === "clear-selection") { return null; }
      if (source === "search-results") {
        return searchKeys && searchKeys.length === 1 ? searchKeys[0] : noUpdate;
      }
      return noUpdate;
    },
    /* a slider's value (while dragging, then settled) as text; top_bar.slider_text's rule */
    sliderText: function (dragValue, value) {
      var triggered = window.dash_clientside.callback_context.triggered || [];
      var v = triggered.length && triggered[0].prop_id.endsWith(".drag_value") ? dragValue : value;
      if (v === null || v === undefined) { return ""; }
      return Number.isInteger(v) && Math.abs(v) >= 1 ? String(v) : Number(v).toFixed(2);
    },
    /* a slider's value -> its settled-value store once it has not changed for SETTLE_MS: a
       burst of changes (an arrow key held down) computes only its last value */
    settleValue: function (value) {
      var triggered = window.dash_clientside.callback_context.triggered || [];
      var key = triggered.length ? triggered[0].prop_id : "";
      var token = (settleTokens[key] || 0) + 1;
      settleTokens[key] = token;
      return new Promise(function (resolve) {
        setTimeout(function () {
          resolve(settleTokens[key] === token ? value : window.dash_clientside.no_update);
        }, SETTLE_MS);
      });
    },
    /* new base edges or selection for the edge canvases (a callback without outputs) */
    drawEdgeLayers: function (baseData, selectionData) { attributionEdges.set(baseData, selectionData); },
    /* the selection -> the URL's "node" parameter (view.state_to_query writes the rest).
       Run when the click's panel is painted (node_panel.js then sets the selection layer that
       came with it), and pushed after the next frame (pushState costs 1-67 ms under
       load): off the click path. dcc.Location is then told, as its own links do, so that
       its next update starts from this URL. */
    selectionQuery: function (selectionLayer, selected) {
      window.requestAnimationFrame(function () {
        setTimeout(function () {
          var params = new URLSearchParams(window.location.search);
          if (selected) { params.set("node", selected); } else { params.delete("node"); }
          /* keep ":" and "," readable, as the server writes them (urlencode safe=":,") */
          var text = params.toString().replace(/%3A/gi, ":").replace(/%2C/gi, ",");
          var query = text ? "?" + text : "";
          if (query !== window.location.search) {
            window.history.pushState({}, "", window.location.pathname + query + window.location.hash);
            window.dispatchEvent(new CustomEvent("_dashprivate_pushstate"));
          }
        }, 0);
      });
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

