"""A model bundle on disk: a TransformerLens model, its per-layer transcoders and a tokenizer.

This module imports torch, TransformerLens and circuit-tracer: it runs in scripts and in
model worker processes, never in the web server. The layout (every file local, nothing is
fetched from the hub)::

    model/config.json           HookedTransformerConfig arguments (n_layers, d_model, ...)
    model/model.safetensors     the model's state_dict
    transcoders/config.json     {"feature_input_hook", "feature_output_hook", "scan", "n_layers"}
    transcoders/layer_{L}.safetensors   W_enc [d_tc, d_model], W_dec [d_tc, d_model], b_enc, b_dec
    tokenizer/                  a Hugging Face tokenizer folder (``save_pretrained``)

:func:`load_replacement_model` is the one place that builds a circuit-tracer
``ReplacementModel`` from such a bundle (circuit-tracer has no public call that loads
trained weights into a model built from a config; the private
``_configure_replacement_model`` is called here and nowhere else).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from circuit_tracer.replacement_model.replacement_model_transformerlens import (
    TransformerLensReplacementModel,
)
from circuit_tracer.transcoder import TranscoderSet
from circuit_tracer.transcoder.single_layer_transcoder import SingleLayerTranscoder, load_transcoder_set
from safetensors.torch import load_file, save_file
from transformer_lens import HookedTransformer, HookedTransformerConfig
from transformers import AutoTokenizer, PreTrainedTokenizerBase

from attribution_viewer.errors import GraphFormatError

log = logging.getLogger(__name__)

MODEL_CONFIG = "config.json"
MODEL_WEIGHTS = "model.safetensors"
TRANSCODER_CONFIG = "config.json"
BACKENDS = ("transformerlens", "nnsight")

# The HookedTransformerConfig arguments a bundle stores (enough to rebuild the model).
CONFIG_KEYS = (
    "model_name",
    "n_layers",
    "d_model",
    "n_heads",
    "d_head",
    "d_mlp",
    "d_vocab",
    "n_ctx",
    "act_fn",
    "normalization_type",
    "positional_embedding_type",
    "attn_only",
    "seed",
)


def transcoder_file(transcoders_dir: Path, layer: int) -> Path:
    """The safetensors file of layer ``layer``'s transcoder."""
    return transcoders_dir / f"layer_{layer}.safetensors"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise GraphFormatError(path, "", "a JSON file (missing)") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GraphFormatError(path, "", "a JSON object", str(exc)) from exc
    if not isinstance(doc, dict):
        raise GraphFormatError(path, "", "a JSON object", type(doc).__name__)
    return doc


# -- saving ---------------------------------------------------------------------------
def save_model(model: HookedTransformer, model_dir: Path) -> None:
    """Write ``model``'s config (the :data:`CONFIG_KEYS`) and weights to ``model_dir``."""
    model_dir.mkdir(parents=True, exist_ok=True)
    config = {key: getattr(model.cfg, key) for key in CONFIG_KEYS}
    (model_dir / MODEL_CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    weights = {name: tensor.detach().contiguous() for name, tensor in model.state_dict().items()}
    save_file(weights, str(model_dir / MODEL_WEIGHTS))


def save_transcoders(transcoders: TranscoderSet, transcoders_dir: Path) -> None:
    """Write one safetensors file per layer plus the hooks the set reads and writes."""
    transcoders_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "feature_input_hook": transcoders.feature_input_hook,
        "feature_output_hook": transcoders.feature_output_hook,
        "scan": transcoders.scan,
        "n_layers": transcoders.n_layers,
    }
    (transcoders_dir / TRANSCODER_CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    for layer, transcoder in enumerate(transcoders.transcoders):
        assert isinstance(transcoder, SingleLayerTranscoder)
        tensors = {
            name: getattr(transcoder, name).detach().contiguous()
            for name in ("W_enc", "W_dec", "b_enc", "b_dec")
        }
        save_file(tensors, str(transcoder_file(transcoders_dir, layer)))


# -- loading --------------------------------------------------------------------------
def load_tokenizer(tokenizer_dir: Path) -> PreTrainedTokenizerBase:
    """The tokenizer saved in ``tokenizer_dir`` (offline: a local folder only)."""
    if not (tokenizer_dir / "tokenizer.json").is_file():
        raise GraphFormatError(tokenizer_dir, "tokenizer.json", "a tokenizer folder (save_pretrained)")
    return AutoTokenizer.from_pretrained(str(tokenizer_dir), local_files_only=True)


def load_model_config(model_dir: Path) -> HookedTransformerConfig:
    """The HookedTransformerConfig stored in ``model_dir/config.json``."""
    path = model_dir / MODEL_CONFIG
    doc = _read_json(path)
    missing = [key for key in CONFIG_KEYS if key not in doc]
    if missing:
        raise GraphFormatError(path, missing[0], "a HookedTransformerConfig argument")
    return HookedTransformerConfig(**{key: doc[key] for key in CONFIG_KEYS}, device="cpu")


def load_transcoders(transcoders_dir: Path) -> TranscoderSet:
    """The per-layer transcoder set saved by :func:`save_transcoders` (weights in memory)."""
    path = transcoders_dir / TRANSCODER_CONFIG
    doc = _read_json(path)
    for key in ("feature_input_hook", "feature_output_hook", "n_layers"):
        if key not in doc:
            raise GraphFormatError(path, key, "a transcoder-set setting")
    paths = {layer: str(transcoder_file(transcoders_dir, layer)) for layer in range(int(doc["n_layers"]))}
    for layer, file in paths.items():
        if not Path(file).is_file():
            raise GraphFormatError(file, "", f"the transcoder of layer {layer} (missing)")
    return load_transcoder_set(
        paths,
        scan=doc.get("scan") or transcoders_dir.name,
        feature_input_hook=doc["feature_input_hook"],
        feature_output_hook=doc["feature_output_hook"],
        device=torch.device("cpu"),
        lazy_encoder=False,
        lazy_decoder=False,
    )


def load_replacement_model(
    model_dir: Path, transcoders_dir: Path, tokenizer_dir: Path, backend: str = "transformerlens"
) -> TransformerLensReplacementModel:
    """A circuit-tracer ``ReplacementModel`` (TransformerLens backend) from a local bundle, on CPU.

    ``backend`` must be ``"transformerlens"``: a bundle's model is a TransformerLens
    config + state_dict, which the nnsight backend (Hugging Face models) cannot read.
    Raises GraphFormatError naming the file for a missing or malformed part.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend != "transformerlens":
        raise ValueError(
            f"backend {backend!r}: a bundle's model ({model_dir}) is a TransformerLens model; "
            "use backend 'transformerlens'"
        )
    config = load_model_config(model_dir)
    tokenizer = load_tokenizer(tokenizer_dir)
    transcoders = load_transcoders(transcoders_dir)
    weights_path = model_dir / MODEL_WEIGHTS
    if not weights_path.is_file():
        raise GraphFormatError(weights_path, "", "the model's weights (missing)")
    model = TransformerLensReplacementModel(config, tokenizer=tokenizer)
    model.load_state_dict(load_file(str(weights_path), device="cpu"), strict=True)
    model._configure_replacement_model(transcoders)  # pyright: ignore[reportPrivateUsage]
    model.eval()
    log.info("loaded replacement model from %s (%d layers)", model_dir, config.n_layers)
    return model
