"""Safe reading of ``torch.save`` files and typed access to the tensors inside.

Files are always read with ``torch.load(weights_only=True, map_location="cpu")``: the
restricted unpickler builds tensors and plain containers only. circuit-tracer pickles a
few of its own classes (``cfg``, ``LogitTarget``); for those, and only for classes of the
packages in :data:`STAND_IN_PACKAGES`, an inert :class:`PickledObject` stand-in is
registered under the class's qualified name. A stand-in stores the arguments and state
the pickle gives it and runs no code, so nothing from the file is ever executed.

torch is optional: :func:`require_torch` raises
:class:`~attribution_viewer.errors.MissingDependencyError` with the install command.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from pathlib import Path
from pickle import UnpicklingError  # noqa: TID251 - the exception class only; nothing is unpickled here
from types import ModuleType
from typing import Any

import numpy as np

from attribution_viewer.errors import GraphFormatError, MissingDependencyError
from attribution_viewer.loaders.pickle_scan import check_pickle_globals

log = logging.getLogger(__name__)

# Top-level packages whose pickled classes may be replaced by inert stand-ins.
STAND_IN_PACKAGES = ("circuit_tracer", "transformer_lens", "nnsight", "transformers")

_KIND_NAMES = {"f": "float", "iu": "integer", "b": "bool", "fiub": "numeric"}


def require_torch() -> ModuleType:
    """Import torch or raise MissingDependencyError with the install command."""
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError(
            "reading .pt graphs needs PyTorch: pip install 'attribution-viewer[torch]' "
            "(or pip install torch; CPU-only: pip install torch==2.13.0 "
            "--index-url https://download.pytorch.org/whl/cpu)"
        ) from exc
    return torch


class PickledObject:
    """Inert stand-in for a library class found in a pickle: it records, never runs code.

    ``args`` are the constructor arguments the pickle passed (a ``NamedTuple`` such as
    circuit-tracer's ``LogitTarget`` arrives this way), ``state`` the ``__setstate__``
    payload (a dataclass such as the model config arrives this way).
    """

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    state: Any

    def __new__(cls, *args: Any, **kwargs: Any) -> PickledObject:
        obj = super().__new__(cls)
        obj.args, obj.kwargs, obj.state = args, kwargs, None
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to do: ``__new__`` recorded the arguments."""

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def fields(self) -> dict[str, Any]:
        """The recorded attribute dict (dataclass / pydantic state), or ``{}``."""
        state = self.state
        if isinstance(state, tuple) and state and isinstance(state[0], dict):
            state = state[0]
        if isinstance(state, dict):
            inner = state.get("__dict__")
            return {**state, **inner} if isinstance(inner, dict) else dict(state)
        return dict(self.kwargs)


def _stand_ins(path: str | Path, torch: ModuleType, buffer: io.BytesIO) -> list[tuple[type, str]]:
    """Stand-in classes for the non-allowlisted globals of a zip checkpoint."""
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(buffer)
    except (ValueError, RuntimeError):
        return []  # legacy (non-zip) file: plain weights_only load decides
    finally:
        buffer.seek(0)
    out: list[tuple[type, str]] = []
    for name in sorted(names):
        if name.split(".", 1)[0] not in STAND_IN_PACKAGES:
            raise GraphFormatError(
                path,
                "",
                f"tensors, plain containers or classes of {', '.join(STAND_IN_PACKAGES)}",
                f"pickled global {name}",
            )
        module, _, qualname = name.rpartition(".")
        out.append((type(qualname, (PickledObject,), {"__module__": module}), name))
    if out:
        log.debug("%s: inert stand-ins for %s", path, [name for _, name in out])
    return out


def load_torch_payload(path: str | Path, data: bytes) -> Any:
    """Unpickle ``data`` (the bytes of ``path``) safely on the CPU."""
    check_pickle_globals(path, data, STAND_IN_PACKAGES)  # fast refusal, before importing torch
    torch = require_torch()
    buffer = io.BytesIO(data)
    stand_ins = _stand_ins(path, torch, buffer)
    try:
        with torch.serialization.safe_globals(stand_ins):
            return torch.load(buffer, weights_only=True, map_location="cpu")
    except UnpicklingError as exc:
        # torch's own message suggests weights_only=False, i.e. running the file's code: never.
        raise GraphFormatError(
            path,
            "",
            "a torch.save file of tensors and plain containers",
            "pickled code or objects a safe load refuses (refused, nothing from the file was run)",
        ) from exc
    except Exception as exc:
        raise GraphFormatError(
            path, "", "a complete torch.save file of tensors and plain containers", str(exc)
        ) from exc


def require_keys(path: str | Path, payload: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        if key not in payload:
            raise GraphFormatError(path, key, "this key in the torch.save dict", "missing")


def to_numpy(path: str | Path, key: str, value: Any) -> np.ndarray:
    """A dense CPU tensor (or array-like) as a numpy array; half/bfloat16 become float32."""
    torch = require_torch()
    if isinstance(value, torch.Tensor):
        if value.layout != torch.strided:
            raise GraphFormatError(path, key, "a dense tensor", f"a {value.layout} tensor")
        tensor = value.detach()
        if tensor.dtype in (torch.bfloat16, torch.float16):
            tensor = tensor.float()
        return tensor.numpy()
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise GraphFormatError(path, key, "a tensor", type(value).__name__) from exc


def array(
    path: str | Path,
    payload: Mapping[str, Any],
    key: str,
    *,
    ndim: int,
    kinds: str = "fiub",
    shape: tuple[int | None, ...] | None = None,
) -> np.ndarray:
    """``payload[key]`` as a numpy array of ``ndim`` dims, dtype kind in ``kinds``, given shape.

    ``shape`` entries of ``None`` are free. Every mismatch is a GraphFormatError naming key.
    """
    require_keys(path, payload, (key,))
    arr = to_numpy(path, key, payload[key])
    if arr.ndim != ndim or arr.dtype.kind not in kinds:
        wanted = _KIND_NAMES.get(kinds, kinds)
        raise GraphFormatError(path, key, f"a {ndim}-d {wanted} tensor", f"{arr.ndim}-d {arr.dtype}")
    if shape is not None and any(
        want is not None and got != want for want, got in zip(shape, arr.shape, strict=True)
    ):
        expected = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise GraphFormatError(path, key, f"shape {expected}", str(tuple(arr.shape)))
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise GraphFormatError(path, key, "finite values", "NaN or inf")
    return arr


def string_list(
    path: str | Path, payload: Mapping[str, Any], key: str, length: int | None = None
) -> list[str]:
    """``payload[key]`` as a list of str (optionally of a given length)."""
    require_keys(path, payload, (key,))
    value = payload[key]
    if not isinstance(value, list | tuple) or not all(isinstance(s, str) for s in value):
        raise GraphFormatError(path, key, "a list of strings", type(value).__name__)
    if length is not None and len(value) != length:
        raise GraphFormatError(path, key, f"{length} strings", f"{len(value)}")
    return list(value)
