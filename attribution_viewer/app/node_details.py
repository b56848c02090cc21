"""Dash rendering of the description part of the node panel, one function per node kind.

Every function here is a pure ``data -> list of Dash components`` builder: it reads no
file (the caller passes the :class:`FeatureDetails` it got from the description source)
and registers no callback. Class names are stable, for ``assets/node_panel.css``:

``feature-description``, ``feature-explanation``, ``facts``, ``panel-error``,
``panel-note``, ``panel-section``, ``section-title``, ``example``, ``example-group``,
``tok`` (+ ``tok-hi`` highlighted, ``tok-ws`` whitespace, ``tok-gap`` elided),
``chip`` / ``chip-count``, ``logit-list`` (+ ``logit-pos`` / ``logit-neg`` /
``logit-in``), ``intervention-table`` (+ ``delta-pos`` / ``delta-neg``),
``language-chart``, ``neuronpedia-link``, ``target-badge``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from dash import dcc, html
from dash.development.base_component import Component

from attribution_viewer.autointerp.records import Example, FeatureDetails, LogitEntry, TokenStat
from attribution_viewer.model import GraphStore, Intervention, NodeKind, visible_token

MAX_EXAMPLES = 8
MAX_EXAMPLE_TOKENS = 48
TOKENS_BEFORE_PEAK = 32
MAX_CHIPS = 12
MAX_CLAMP_TOKENS = 5
MAX_LANGUAGES = 8
HIGHLIGHT_RGB = "255, 140, 0"
LANGUAGE_COLORS = ("#4c78a8", "#bab0ac")


# -- small building blocks ------------------------------------------------------------
def _quoted(token: str) -> str:
    return "'" + visible_token(token) + "'"


def _number(value: float | None, fmt: str = ".3g") -> str:
    return "—" if value is None or math.isnan(value) else format(value, fmt)


def _fraction(value: float | None) -> str:
    """A firing frequency as a percentage ("1.25%"), "—" when unknown."""
    return "—" if value is None or math.isnan(value) else f"{value * 100:.3g}%"


def _facts(pairs: Sequence[tuple[str, str]]) -> html.Dl:
    return html.Dl(
        [item for name, value in pairs for item in (html.Dt(name), html.Dd(value))], className="facts"
    )


def _section(title: str, body: Sequence[Component] | Component, class_name: str = "") -> html.Div:
    children = list(body) if isinstance(body, Sequence) else [body]
    return html.Div(
        [html.Div(title, className="section-title"), *children],
        className=f"panel-section {class_name}".strip(),
    )


def _position(store: GraphStore, pos: int) -> str:
    token = store.token_at(pos)
    return f"{pos} {_quoted(token)}" if token else str(pos)


def _token_text(token: str) -> tuple[str, bool]:
    """Display text of a token and whether it is whitespace only (then shown as symbols)."""
    if token and not token.strip():
        return visible_token(token), True
    return token.replace("\n", "\u23ce"), False


def _nodes(count: int) -> str:
    return f"{count} node{'s' if count != 1 else ''}"


def _degree(store: GraphStore, index: int) -> tuple[int, int]:
    """(number of nodes feeding ``index``, number of nodes it feeds)."""
    return len(store.in_edges(index)[0]), len(store.out_edges(index)[0])


# -- examples -------------------------------------------------------------------------
def _window(example: Example) -> tuple[int, int]:
    """Token range shown for a long example: around its peak (or first highlighted) token."""
    n = len(example.tokens)
    if n <= MAX_EXAMPLE_TOKENS:
        return 0, n
    if example.activations:
        peak = max(range(n), key=example.activations.__getitem__)
    else:
        peak = next((i for i, on in enumerate(example.highlighted) if on), 0)
    start = min(max(0, peak - TOKENS_BEFORE_PEAK), n - MAX_EXAMPLE_TOKENS)
    return start, start + MAX_EXAMPLE_TOKENS


def render_example(example: Example) -> html.Div:
    """One example as token spans; highlighted tokens shaded by activation when known."""
    start, stop = _window(example)
    peak = example.max_activation
    if example.activations and (peak is None or peak <= 0):
        peak = max(example.activations)
    spans: list[Component] = []
    if start > 0:
        spans.append(html.Span("…", className="tok tok-gap"))
    for i in range(start, stop):
        text, blank = _token_text(example.tokens[i])
        classes = ["tok"]
        style: dict[str, str] = {}
        title = None
        if example.highlighted[i]:
            classes.append("tok-hi")
        if blank:
            classes.append("tok-ws")
        if example.activations is not None:
            act = example.activations[i]
            title = f"{act:.3g}"
            if act > 0 and peak is not None and peak > 0:
                style["backgroundColor"] = f"rgba({HIGHLIGHT_RGB}, {0.15 + 0.85 * min(act / peak, 1.0):.2f})"
        spans.append(html.Span(text, className=" ".join(classes), style=style or None, title=title))
    if stop < len(example.tokens):
        spans.append(html.Span("…", className="tok tok-gap"))
    return html.Div(spans, className="example")


def _examples_section(examples: Sequence[Example]) -> html.Div:
    children: list[Component] = []
    group = None
    for ex in examples[:MAX_EXAMPLES]:
        if ex.label and ex.label != group:
            children.append(html.Div(ex.label, className="example-group"))
            group = ex.label
        children.append(render_example(ex))
    shown = min(len(examples), MAX_EXAMPLES)
    title = f"Top examples ({shown} of {len(examples)})" if len(examples) > shown else "Top examples"
    return _section(title, children, "examples")


# -- token lists ----------------------------------------------------------------------
def _chip(token: str, extra: str, title: str | None = None) -> html.Span:
    text, blank = _token_text(token)
    return html.Span(
        [
            html.Span(text, className="tok tok-ws" if blank else "tok"),
            html.Span(extra, className="chip-count"),
        ],
        className="chip",
        title=title,
    )


def _top_tokens_section(stats: Sequence[TokenStat]) -> html.Div:
    chips = [
        _chip(
            s.token,
            f"×{s.count}",
            None if s.average_activation is None else f"mean {s.average_activation:.3g}",
        )
        for s in stats[:MAX_CHIPS]
    ]
    return _section("Top activating tokens", html.Div(chips, className="chip-list"), "top-tokens")


def _logit_list(title: str, entries: Sequence[LogitEntry], class_name: str) -> html.Div:
    chips = [_chip(e.token, "" if e.value is None else f"{e.value:+.3g}") for e in entries[:MAX_CHIPS]]
    return html.Div(
        [html.Div(title, className="logit-title"), html.Div(chips, className="chip-list")],
        className=f"logit-list {class_name}",
    )


def _logits_section(details: FeatureDetails) -> html.Div | None:
    lists = [
        _logit_list(title, entries, cls)
        for title, entries, cls in (
            ("Promotes", details.top_logits, "logit-pos"),
            ("Suppresses", details.bottom_logits, "logit-neg"),
            ("Read from", details.input_logits, "logit-in"),
        )
        if entries
    ]
    return _section("Logits", lists, "logits") if lists else None


# -- interventions --------------------------------------------------------------------
def render_intervention_table(intervention: Intervention) -> html.Table:
    """One row per clamp value: the top next tokens and the baseline token's probability."""
    header = html.Tr([html.Th("Clamp"), html.Th("Top next tokens"), html.Th("Baseline token p")])
    rows: list[Component] = [header]
    for clamp in intervention.clamps:
        tokens = [
            _chip(tok, f"{p:.2f}")
            for tok, p in list(zip(clamp.tokens, clamp.probabilities, strict=False))[:MAX_CLAMP_TOKENS]
        ]
        change = clamp.baseline_prob_change
        rows.append(
            html.Tr(
                [
                    html.Td(f"{clamp.value:g}", className="clamp-value"),
                    html.Td(html.Div(tokens, className="chip-list"), className="clamp-tokens"),
                    html.Td(
                        [
                            html.Span(f"{_quoted(clamp.baseline_token)} "),
                            html.Span(
                                f"{clamp.baseline_prob_original:.3f} → {clamp.baseline_prob_after:.3f} "
                            ),
                            html.Span(
                                f"({change:+.3f})", className="delta-pos" if change >= 0 else "delta-neg"
                            ),
                        ],
                        className="clamp-baseline",
                    ),
                ]
            )
        )
    return html.Table(html.Tbody(rows), className="intervention-table")


# -- language distributions -----------------------------------------------------------
def language_figure(top: Mapping[str, float], general: Mapping[str, float]) -> dict:
    """A small horizontal bar chart (plain figure dict: no plotly validation cost)."""
    ranked = sorted(set(top) | set(general), key=lambda lang: (-top.get(lang, 0.0), -general.get(lang, 0.0)))
    langs = ranked[:MAX_LANGUAGES][::-1]  # largest at the top of a horizontal chart
    traces = [
        {
            "type": "bar",
            "orientation": "h",
            "name": name,
            "y": langs,
            "x": [dist.get(lang, 0.0) for lang in langs],
            "marker": {"color": color},
            "hovertemplate": "%{y}: %{x:.1%}<extra>" + name + "</extra>",
        }
        for name, dist, color in (
            ("top examples", top, LANGUAGE_COLORS[0]),
            ("all activations", general, LANGUAGE_COLORS[1]),
        )
        if dist
    ]
    return {
        "data": traces,
        "layout": {
            "height": 46 + 14 * len(langs) * max(len(traces), 1),
            "margin": {"l": 40, "r": 10, "t": 22 if len(traces) > 1 else 4, "b": 24},
            "barmode": "group",
            "xaxis": {"tickformat": ".0%", "rangemode": "tozero"},
            "showlegend": len(traces) > 1,
            "legend": {
                "orientation": "h",
                "x": 1,
                "xanchor": "right",
                "y": 1,
                "yanchor": "bottom",
                "font": {"size": 10},
            },
            "font": {"size": 11},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


def _language_section(details: FeatureDetails) -> html.Div | None:
    if not details.language_distribution and not details.general_language_distribution:
        return None
    graph = dcc.Graph(
        figure=language_figure(details.language_distribution, details.general_language_distribution),
        config={"displayModeBar": False},
        className="language-chart",
    )
    return _section("Languages", graph, "languages")


# -- public renderers -----------------------------------------------------------------
def render_error_message(error: str) -> html.Div:
    """A readable message for a description file that could not be read."""
    return html.Div(
        [html.Strong("Could not read this feature's description. "), html.Span(error)],
        className="panel-error",
        role="alert",
    )


def render_feature_details(
    details: FeatureDetails | None,
    *,
    store: GraphStore,
    index: int,
    label: str,
    frequency: float | None,
    neuronpedia_url: str | None,
    error: str | None,
    mismatch: str = "",
) -> list[Component]:
    """Description, facts, examples, tokens, logits, interventions and languages of a feature.

    ``label`` (the user's or the graph's label) is the title when there is no description;
    ``frequency`` comes from the frequency file and falls back to the record's own;
    ``mismatch`` says why the description may belong to another model (shown above it).
    """
    nodes = store.nodes
    layer, pos, idx = int(nodes.layer[index]), int(nodes.pos[index]), int(nodes.feature_idx[index])
    out: list[Component] = []
    if error:
        out.append(render_error_message(error))
    if mismatch:
        out.append(html.Div(mismatch, className="panel-warning model-mismatch", role="alert"))
    title = details.description if details and details.description else label
    out.append(html.Div(title, className="feature-description"))
    if details and details.explanation:
        out.append(html.P(details.explanation, className="feature-explanation"))
    if details is None and not error:
        out.append(html.Div("No autointerp description for this feature.", className="panel-note"))
    if frequency is None and details is not None:
        frequency = details.frequency
    facts = [
        ("Layer", str(layer)),
        ("Position", _position(store, pos)),
        ("Feature", str(idx)),
        ("Activation", _number(float(nodes.activation[index]))),
        ("Frequency", _fraction(frequency)),
    ]
    if details is not None:
        facts += [
            ("Mean act.", _number(details.average_activation)),
            ("Max act.", _number(details.max_activation)),
        ]
    out.append(_facts(facts))
    if neuronpedia_url:
        out.append(
            html.A(
                "Open on Neuronpedia ↗",
                href=neuronpedia_url,
                target="_blank",
                rel="noopener noreferrer",
                className="neuronpedia-link",
            )
        )
    if details is not None:
        if details.top_examples:
            out.append(_examples_section(details.top_examples))
        if details.top_activating_tokens:
            out.append(_top_tokens_section(details.top_activating_tokens))
        out.extend(s for s in (_logits_section(details), _language_section(details)) if s is not None)
    intervention = store.interventions_by_key.get(store.keys[index])
    if intervention is not None and intervention.clamps:
        out.append(_section("Interventions", render_intervention_table(intervention), "interventions"))
    return out


def render_embedding_details(store: GraphStore, index: int) -> list[Component]:
    """A prompt token: the token, its position and how many nodes it feeds."""
    pos = int(store.nodes.pos[index])
    token_id = int(store.nodes.token_id[index])
    _, fed = _degree(store, index)
    facts = [("Token", _quoted(store.token_at(pos))), ("Position", str(pos))]
    if token_id >= 0:
        facts.append(("Token id", str(token_id)))
    facts.append(("Feeds", _nodes(fed)))
    return [html.Div("Input token embedding", className="feature-description"), _facts(facts)]


def render_error_details(store: GraphStore, index: int) -> list[Component]:
    """An error node: what the transcoder failed to reconstruct at (layer, position)."""
    layer, pos = int(store.nodes.layer[index]), int(store.nodes.pos[index])
    fed_by, feeds = _degree(store, index)
    facts = [
        ("Layer", str(layer)),
        ("Position", _position(store, pos)),
        ("Fed by", _nodes(fed_by)),
        ("Feeds", _nodes(feeds)),
    ]
    note = "The part of the MLP output at this layer and position that the features do not explain."
    return [
        html.Div("Reconstruction error", className="feature-description"),
        html.P(note, className="panel-note"),
        _facts(facts),
    ]


def render_logit_details(store: GraphStore, index: int) -> list[Component]:
    """A logit: the candidate token, its probability, whether it is the target, its inputs."""
    if store.kind_of(index) is not NodeKind.LOGIT:
        raise ValueError(f"node {index} is not a logit")
    info = store.logit_info(index)
    fed_by, _ = _degree(store, index)
    title: list[Component] = [html.Span(f"Output {_quoted(info.token)}")]
    if info.is_target:
        title.append(html.Span("target", className="target-badge"))
    facts = [
        ("Probability", f"{info.probability:.3f}"),
        ("Token id", str(info.token_id) if info.token_id >= 0 else "—"),
        ("Fed by", _nodes(fed_by)),
    ]
    return [html.Div(title, className="feature-description"), _facts(facts)]
