"""Every component and store id of the page, defined once (the README lists them for scripting).

Units import the names, never spell the strings. Stores hold only what a user owns (their
view, selection, pins, labels, search, clusters) or what the browser draws (the two canvas
payloads and the node keys a click maps through).
"""

from __future__ import annotations

CLIENTSIDE = "attributionViewer"  # namespace of the clientside callbacks in assets/app.js

# -- page ---------------------------------------------------------------------------------
URL = "url"  # dcc.Location: the view as a query string
NOTICES = "notices"  # problems found in the URL's query
URL_CLUSTERS = "url-clusters"  # store: the clusters a link carries (win over local storage once)

# -- top bar: the view's controls ------------------------------------------------------------
NODE_SIZE = "node-size"
PRUNE = "prune-slider"
FREQUENCY = "frequency-slider"
# The two sliders' settled values (stores): what views read. A slider's value reaches its
# store once it has stopped changing for SETTLE_MS (assets/app.js settleValue), so holding an
# arrow key computes one view, not one per step.
PRUNE_VALUE = "prune-value"
FREQUENCY_VALUE = "frequency-value"
# The value of each slider as text, next to its name.
SLIDER_TEXTS = {NODE_SIZE: "node-size-text", PRUNE: "prune-text", FREQUENCY: "frequency-text"}
TOGGLES = "error-toggle"  # checklist: "errors", and "shared" for graphs that have it
# -- labels toggle (app/node_labels.py, assets/labels.js) --
SHOW_LABELS = "label-toggle"  # checklist: "labels" writes labels beside the nodes that have room
LABEL_FRAME = "label-frame"  # store: the plot's axis ranges and size in px, written by labels.js
LABEL_LAYER = "label-layer"  # store: the labels placed in that frame, drawn by labels.js
EDGES_PER_TARGET = "edges-per-target"  # dropdown: edges drawn strongly into each node (0: all)
EDGES_FADED = "edges-faded"  # checklist: the other visible edges drawn faded (else not drawn)
SEARCH = "node-search"
SEARCH_STATUS = "search-status"
COUNTS = "shown-counts"

# -- graph view ------------------------------------------------------------------------------
GRAPH = "attribution-graph"  # the dcc.Graph (nodes as SVG markers, edges on canvases under it)
PROMPT = "prompt-tokens"
PROMPT_TOKEN = "prompt-token"  # pattern-matching type: {"type": PROMPT_TOKEN, "pos": P}
NODE_KEYS = "node-keys"  # store: node index -> key, for clicks mapped in the browser
SEARCH_RESULTS = "search-results"  # store: keys matching the search
TOKEN_FOCUS = "token-focus"  # store: the prompt position whose column is highlighted
EDGE_LAYER = "edge-layer"  # store: the drawn edges (attribution_viewer.canvas.base_edge_layer)
SELECTION_LAYER = "selection-layer"  # store: the selection's edges and rings (canvas.selection_layer)
CLEAR_SELECTION = "clear-selection"  # hidden button pressed by Esc / a click on empty space

# -- the user's selection, pins and labels (read by every unit) ------------------------------
SELECTED = "selected-node"
PINNED = "pinned-nodes"
LABELS = "node-labels"

# -- node panel ------------------------------------------------------------------------------
NODE_PANEL = "node-panel"
NODE_PANEL_HEAD = "node-panel-head"  # the panel's header part, built by assets/node_panel.js
NODE_PANEL_BODY = "node-panel-body"  # the panel's details + connections, built the same way
NODE_ACTIONS = "node-actions"  # the panel's pin / rename buttons (Dash components)
PANEL_ROUTE = "_attrview/node-panel"  # the panel's JSON route (POST, app/node_panel.py)
HIDDEN_NOTE = "hidden-note"  # the node panel's note when the filters hide the selected node
PIN_BUTTON = "pin-button"
LABEL_INPUT = "label-input"
LABEL_SAVE = "label-save"

# -- cluster panel ---------------------------------------------------------------------------
CLUSTER_PANEL = "cluster-panel"
CLUSTER_STATE = "cluster-state"  # store (local storage): {"clusters": [...], "active": [ids]}
CLUSTER_DOWNLOAD = "cluster-download"
CLUSTER_METHOD = "cluster-method"
CLUSTER_N = "cluster-n"
CLUSTER_MAX_SIZE = "cluster-max-size"
CLUSTER_RUN = "cluster-run"
CLUSTER_TARGET = "cluster-target"
CLUSTER_MERGE_WITH = "cluster-merge-with"
CLUSTER_CREATE = "cluster-create"
CLUSTER_ADD = "cluster-add"
CLUSTER_REMOVE = "cluster-remove"
CLUSTER_MERGE = "cluster-merge"
CLUSTER_SPLIT = "cluster-split"
CLUSTER_DELETE = "cluster-delete"
CLUSTER_NAME = "cluster-name-input"
CLUSTER_RENAME = "cluster-rename"
CLUSTER_COLOR = "cluster-color"
CLUSTER_SAVE = "cluster-save"
CLUSTER_UPLOAD = "cluster-upload"
CLUSTER_IMPORT = "cluster-import"
CLUSTER_STATUS = "cluster-status"
CLUSTER_LIST = "cluster-list"
CLUSTER_ITEM = "cluster-item"  # pattern-matching type: {"type": CLUSTER_ITEM, "id": cluster id}
CLUSTER_GRAPH = "cluster-graph"

# -- export menu -----------------------------------------------------------------------------
EXPORT_MENU = "export-menu"
EXPORT_BUTTON = "export-button"
EXPORT_FORMAT = "export-format"
EXPORT_PRESET = "export-preset"
EXPORT_WIDTH = "export-width"
EXPORT_HEIGHT = "export-height"
EXPORT_FONT_SIZE = "export-font-size"
EXPORT_TITLE = "export-title"
EXPORT_FLAGS = "export-flags"
EXPORT_GO = "export-go"
EXPORT_STATUS = "export-status"
EXPORT_DOWNLOAD = "export-download"

# -- graph picker (a folder of graphs only) ------------------------------------------------
GRAPH_PICKER = "graph-picker"  # dropdown of the library's graphs; choosing one opens it
GRAPH_PICKER_BOX = "graph-picker-box"  # its wrapper: a click (opening) rescans the folder
GRAPH_NAV = "graph-nav"  # store: the page's graph; another chosen in the picker -> its page

# -- compare view (a folder of graphs only) -------------------------------------------------
COMPARE_VIEW = "compare-view"
COMPARE_PICKER = "compare-picker"  # the second graph
COMPARE_SUMMARY = "compare-summary"
COMPARE_FIGURE = "compare-figure"  # dcc.Graph: both graphs side by side, shared features marked
COMPARE_TABLE = "compare-table"  # DataTable: shared / only-left / only-right features
COMPARE_TWIN = "compare-twin"  # store: the hovered shared feature and how many twins were ringed
COMPARE_EXPORT_FORMAT = "compare-export-format"
COMPARE_EXPORT_GO = "compare-export-go"
COMPARE_DOWNLOAD = "compare-download"
COMPARE_STATUS = "compare-status"

# -- new graph from a prompt (a model configured only) ---------------------------------------
NEW_GRAPH_MENU = "new-graph-menu"  # <details> in the top bar
NEW_GRAPH_PROMPT = "new-graph-prompt"
NEW_GRAPH_MAX_LOGITS = "new-graph-max-logits"
NEW_GRAPH_DESIRED_PROB = "new-graph-desired-prob"
NEW_GRAPH_MAX_FEATURES = "new-graph-max-features"
NEW_GRAPH_BATCH_SIZE = "new-graph-batch-size"
NEW_GRAPH_RUN = "new-graph-run"
NEW_GRAPH_CANCEL = "new-graph-cancel"
NEW_GRAPH_PROGRESS = "new-graph-progress"  # <progress>, and its step as text:
NEW_GRAPH_PROGRESS_TEXT = "new-graph-progress-text"
NEW_GRAPH_STATUS = "new-graph-status"  # why a run could not start, where the graph went
NEW_GRAPH_REQUEST = "new-graph-request"  # store: the job to run
NEW_GRAPH_OUTPUT = "new-graph-output"  # store: its outcome
NEW_GRAPH_OPEN = "new-graph-open"  # store: the new graph's path in the folder (the page then opens it)
