"""Export of graphs for papers and for other tools.

- :mod:`~attribution_viewer.export.print_figure`: print-ready plotly figures (graph and
  cluster views), SVG traces only so PDF / SVG output stays vector.
- :mod:`~attribution_viewer.export.image`: render a figure to PDF / SVG / PNG bytes (kaleido).
- :mod:`~attribution_viewer.export.neuronpedia`: the Neuronpedia / circuit-tracer graph JSON.
"""
