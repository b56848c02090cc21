"""The bundled tiny model: two-digit addition, its transcoders, graphs and feature descriptions.

Imports torch and circuit-tracer (scripts and worker processes only, never the web
server). :func:`build_bundle` (``pipeline``) is the whole seeded CPU pipeline that
``scripts/train_tiny_model.py`` runs:

1. a char-level tokenizer (``<pad>`` 0, ``<bos>`` 1, digits, ``+``, ``=``), saved with
   ``save_pretrained``;
2. a 2-layer TransformerLens model trained on every ``<bos>AB+CD=SSS`` (the sum zero-padded
   to three digits; loss on the three answer digits; a seeded 10% of the pairs held out);
3. one ReLU transcoder per layer (``hook_resid_mid`` -> ``hook_mlp_out``, MSE + L1 on
   activations weighted by decoder norms) trained on the model's activations over the corpus;
4. circuit-tracer's ``attribute`` on a few prompts -> ``Graph.to_pt`` files;
5. an autointerp folder in the original layout (``layer{L}/feature_{idx}_complete.json``
   and ``feature_frequency.json``) computed from the transcoders' activations over the
   whole corpus: top activating contexts with the activating token marked ``<<x>>``, and a
   description naming what those contexts share (the position, the digits there, the
   digit that comes next, a carry).

Every step is seeded and runs on one thread, so the same code gives the same files.

One module per step: ``data`` (1, and the corpus, prompts and settings), ``model`` (2),
``transcoders`` (3), ``pipeline`` (4, and the whole run), ``autointerp`` (5).
"""

from attribution_viewer.live.tiny_model.data import TinyConfig
from attribution_viewer.live.tiny_model.pipeline import build_bundle

__all__ = ["TinyConfig", "build_bundle"]
