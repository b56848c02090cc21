/* The node panel, built in the browser (issue #10): a click does not wait for Dash.

   The panel (#node-panel, app/node_panel.py layout) is rendered by Dash once: two empty
   parts, #node-panel-head and #node-panel-body, with the Dash-owned actions (pin, rename)
   between them. Their content comes from the panel route (POST
   <prefix>_attrview/node-panel, app/node_panel.py panel_response: {key, head, body,
   selection} with the parts as Dash component JSON, or {error}) and is built here as
   plain DOM elements with the same tags, ids, classes and data-* attributes Dash would
   give them (texts through text nodes, links only http(s)); the connection rows are then
   built by assets/app.js from div.conn-groups[data-groups], before the frame paints.

   A click on a marker or a connection row (assets/app.js) calls attributionPanel.select:
   the route is asked at once with the view Dash last reported (panelView) - for a
   marker, already at mousedown (prefetch), its release reusing that answer - the panel is
   built when the answer is in, and only after that frame is painted is Dash told
   (set_props "selected-node", and "selection-layer" with the answer's canvas data), so
   the other units (URL, labels, steering, clusters) react without delaying the panel.
   panelView (the clientside callback on the selection, pins, labels and filters) asks
   the route again when what the panel shows changed some other way (search, Esc, pin,
   label, a slider), and sets the actions' state. */
var attributionPanel = (function () {
  var ROUTE = "_attrview/node-panel";
  var fields = null;  /* the view's field names, in the callback's argument order */
  var view = null;    /* the view Dash last reported */
  var asked = null;   /* the view (JSON) of the last request */
  var shownKey;       /* the key of the node shown (undefined: none yet) */
  var serial = 0;
  /* a click whose panel is not shown yet: {key, from: Dash's selection when it was made} */
  var clicking = null;

  function prefix() {
    var config = document.getElementById("_dash-config");
    try { return JSON.parse(config.textContent).requests_pathname_prefix || "/"; } catch (e) { return "/"; }
  }

  var SAFE_PROPS = ["id", "title", "target", "hidden", "colSpan", "rowSpan"];
  /* Dash component JSON ({type, namespace, props}) -> DOM nodes appended to parent. */
  function append(parent, node, charts) {
    if (node === null || node === undefined || node === false) { return; }
    if (Array.isArray(node)) { node.forEach(function (child) { append(parent, child, charts); }); return; }
    if (typeof node !== "object") { parent.appendChild(document.createTextNode(String(node))); return; }
    var props = node.props || {};
    var el;
    if (node.namespace === "dash_core_components" && node.type === "Graph") {
      el = document.createElement("div");
      charts.push([el, props]);
    } else if (node.namespace === "dash_html_components") {
      el = document.createElement(node.type.toLowerCase());
    } else {
      return;
    }
    Object.keys(props).forEach(function (name) {
      var value = props[name];
      if (value === null || value === undefined || name === "children") { return; }
      if (name === "className") { el.className = value; }
      else if (name === "style") { Object.assign(el.style, value); }
      else if (name === "href") { if (/^https?:\/\//i.test(value)) { el.setAttribute("href", value); } }
      else if (SAFE_PROPS.indexOf(name) >= 0) { el[name] = value; }
      else if (/^(data|aria)-/.test(name)) { el.setAttribute(name, String(value)); }
    });
    if (el.target === "_blank") { el.rel = "noopener noreferrer"; }
    append(el, props.children, charts);
    parent.appendChild(el);
  }

  function fill(id, content, charts) {
    var part = document.getElementById(id);
    if (!part) { return; }
    var fragment = document.createDocumentFragment();
    append(fragment, content, charts);
    part.replaceChildren(fragment);
  }

  function render(data) {
    var charts = [];
    if (data.error) {
      fill("node-panel-head", { namespace: "dash_html_components", type: "Div",
        props: { className: "notice callback-error", children: data.error } }, charts);
      fill("node-panel-body", null, charts);
      return;
    }
    fill("node-panel-head", data.head, charts);
    fill("node-panel-body", data.body, charts);
    charts.forEach(function (chart) {  /* the language chart: a small Plotly figure */
      var props = chart[1], figure = props.figure || {};
      chart[0].className = props.className || "";
      if (window.Plotly) { window.Plotly.newPlot(chart[0], figure.data || [], figure.layout || {}, props.config || {}); }
    });
  }

  /* The panel spins (data-loading, app.css: after --busy-delay more) once a request has
     taken BUSY_MS: not at once, as any change to the panel makes the browser lay it out
     again, which would delay the answer's panel. */
  var BUSY_MS = 300;
  var busyTimer = null;
  function setBusy(busy) {
    var panel = document.getElementById("node-panel");
    clearTimeout(busyTimer);
    if (busy) {
      busyTimer = setTimeout(function () { if (panel) { panel.setAttribute("data-loading", ""); } }, BUSY_MS);
    } else if (panel && panel.hasAttribute("data-loading")) {
      panel.removeAttribute("data-loading");
    }
  }

  /* after the frame that shows the panel is painted, tell Dash (its updates do not delay
     the panel): the clicked selection, and the canvas data of a new selection */
  function tellDash(job, newSelection) {
    window.requestAnimationFrame(function () {
      setTimeout(function () {
        var setProps = window.dash_clientside && window.dash_clientside.set_props;
        if (!setProps) { return; }
        if (job.fromClick) { setProps("selected-node", { data: job.key }); }
        if (newSelection) { setProps("selection-layer", { data: job.data.error ? null : job.data.selection }); }
      }, 0);
    });
  }

  function finish(job) {
    if (job.fromClick) { clicking = null; }
    setBusy(false);
    render(job.data);
    var newSelection = job.key !== shownKey;
    shownKey = job.key;
    if (job.fromClick || newSelection) { tellDash(job, newSelection); }
  }

  /* The route's answer to one request body (JSON): a promise of the data or {error}. */
  function ask(body) {
    return window.fetch(prefix() + ROUTE, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: body
    }).then(function (response) {
      return response.json().catch(function () {
        return { error: "Could not show this node: the server answered " + response.status };
      });
    }, function (error) {
      return { error: "Could not show this node: " + error };
    });
  }

  /* The request asked at mousedown on a marker (prefetch), {body, answer}: the click
     that follows uses its answer when it asks the same (a drag leaves it unused). */
  var early = null;

  function requestBody(v) {
    return JSON.stringify({ key: v.selected === undefined ? null : v.selected, view: v });
  }

  /* Ask the route for view v; fromClick: Dash is told the selection after the paint. */
  function request(v, fromClick) {
    var job = { key: v.selected === undefined ? null : v.selected, fromClick: fromClick, data: null };
    var mine = ++serial;
    if (fromClick && (clicking === null || clicking.key !== job.key)) {
      clicking = { key: job.key, from: view === null ? null : view.selected };
    }
    var body = requestBody(v);
    var answer = early !== null && early.body === body ? early.answer : ask(body);
    early = null;
    asked = JSON.stringify(v);
    setBusy(true);
    answer.then(function (data) {
      if (mine !== serial) { return; }  /* a newer request is on its way */
      job.data = data;
      finish(job);
    });
  }

  return {
    /* mousedown on node `key`'s marker: ask the route now, show nothing yet */
    prefetch: function (key) {
      if (view === null) { return; }
      var body = requestBody(Object.assign({}, view, { selected: key }));
      if (early === null || early.body !== body) { early = { body: body, answer: ask(body) }; }
    },
    /* a click on a marker or a connection row: show node `key` */
    select: function (key) {
      if (view === null) {  /* Dash has not reported the view yet: let it do the work */
        window.dash_clientside.set_props("selected-node", { data: key });
        return;
      }
      request(Object.assign({}, view, { selected: key }), true);
    },
    /* the view Dash reports (panelView): ask again unless that view was asked already */
    update: function (values) {
      if (fields === null) {
        var panel = document.getElementById("node-panel");
        fields = JSON.parse(panel.getAttribute("data-view-fields"));
      }
      var v = {};
      fields.forEach(function (name, i) { v[name] = values[i] === undefined ? null : values[i]; });
      view = v;
      /* a view change while a click's answer is on its way (a late callback of the page)
         keeps the click's node, unless Dash changed the selection itself (Esc, search) */
      var wanted = v;
      if (clicking !== null && v.selected === clicking.from) {
        wanted = Object.assign({}, v, { selected: clicking.key });
      } else {
        clicking = null;
      }
      if (JSON.stringify(wanted) !== asked) { request(wanted, clicking !== null); }
      return v;
    }
  };
})();

window.dash_clientside = Object.assign({}, window.dash_clientside);
window.dash_clientside.attributionViewer = Object.assign({}, window.dash_clientside.attributionViewer, {
  /* the view's values (app/node_panel.py: PANEL_FIELDS order) -> the panel (asked again
     if it shows something else) and the actions: [hidden, pin button text, label input] */
  panelView: function () {
    var v = attributionPanel.update(Array.prototype.slice.call(arguments));
    var key = v.selected;
    var pinned = v.pinned || [], labels = v.labels || {};
    return [!key, key && pinned.indexOf(key) >= 0 ? "Unpin" : "Pin", (key && labels[key]) || ""];
  }
});
