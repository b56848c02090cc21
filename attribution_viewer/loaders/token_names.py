"""Real token strings for graphs that carry only token ids (circuit-tracer ``.pt`` files).

A circuit-tracer ``.pt`` stores the prompt as ids, so the loaders show ``#<id>``. With a
tokenizer known (a local folder holding ``tokenizer.json``, or the name of a model whose
tokenizer is already in the Hugging Face cache: nothing is downloaded), :func:`name_tokens`
replaces those placeholders by the decoded strings. It reads ``tokenizer.json`` with the
light ``tokenizers`` package (no transformers, no torch).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from attribution_viewer.errors import GraphFormatError, MissingDependencyError
from attribution_viewer.loaders.ct_order import unknown_token
from attribution_viewer.model import GraphStore, NodeKind

log = logging.getLogger(__name__)

TOKENIZER_FILE = "tokenizer.json"


def resolve_tokenizer(spec: str | Path) -> Path:
    """The ``tokenizer.json`` for ``spec``: a local folder (or the file itself), else a model
    name looked up in the Hugging Face cache only (offline).

    Raises GraphFormatError naming ``spec`` when neither has one.
    """
    local = Path(spec).expanduser()
    if local.is_file() and local.name == TOKENIZER_FILE:
        return local
    if (local / TOKENIZER_FILE).is_file():
        return local / TOKENIZER_FILE
    if local.exists():
        raise GraphFormatError(local, TOKENIZER_FILE, "a tokenizer folder holding tokenizer.json")
    from huggingface_hub import try_to_load_from_cache

    try:
        cached = try_to_load_from_cache(str(spec), TOKENIZER_FILE)
    except ValueError:  # not a valid model name either (e.g. a path that does not exist)
        cached = None
    if not isinstance(cached, str):
        raise GraphFormatError(
            str(spec),
            "tokenizer",
            "a local tokenizer folder or a model name whose tokenizer.json is in the Hugging Face cache",
            "neither",
        )
    return Path(cached)


def name_tokens(store: GraphStore, tokenizer_json: Path) -> GraphStore:
    """``store`` with ``#<id>`` prompt and logit tokens replaced by the tokenizer's strings.

    Strings the file carried itself are kept. Raises MissingDependencyError without the
    ``tokenizers`` package and GraphFormatError for an unreadable tokenizer file or an id
    outside its vocabulary.
    """
    try:
        from tokenizers import Tokenizer
    except ImportError as exc:
        raise MissingDependencyError(
            "showing token strings needs the 'tokenizers' package: pip install tokenizers"
        ) from exc
    try:
        tokenizer = Tokenizer.from_file(str(tokenizer_json))
    except Exception as exc:  # the Rust side raises a plain Exception for any bad file
        raise GraphFormatError(tokenizer_json, "", "a Hugging Face tokenizer.json", str(exc)[:80]) from exc
    vocab_size = tokenizer.get_vocab_size(with_added_tokens=True)

    def text(token_id: int, shown: str) -> str:
        if shown != unknown_token(token_id):
            return shown
        if not 0 <= token_id < vocab_size:
            raise GraphFormatError(
                tokenizer_json, "", f"a tokenizer with token id {token_id} (vocabulary {vocab_size})"
            )
        return tokenizer.decode([token_id], skip_special_tokens=False)

    embeddings = store.nodes.kind == NodeKind.EMBEDDING
    ids_by_pos = dict(
        zip(store.nodes.pos[embeddings].tolist(), store.nodes.token_id[embeddings].tolist(), strict=True)
    )
    prompt = tuple(
        text(ids_by_pos[pos], shown) if ids_by_pos.get(pos, -1) >= 0 else shown
        for pos, shown in enumerate(store.prompt_tokens)
    )
    logits = tuple(replace(lg, token=text(lg.token_id, lg.token)) for lg in store.logits)
    log.debug("named %d prompt tokens with %s", len(prompt), tokenizer_json)
    return replace(store, prompt_tokens=prompt, logits=logits)
