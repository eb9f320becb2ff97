"""``load()``: the one entry point to a saved model (re-exported as ``costmodel.load``)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "default"


def load(path: str | os.PathLike | None = None, targets=None):
    """The model saved at ``path`` (a folder with manifest.json), or the shipped default model;
    ``targets`` (names) loads only those targets."""
    from .model import CostModel, ModelFormatError

    p = Path(path) if path is not None else DEFAULT_MODEL
    if path is None and not (p / "manifest.json").is_file():
        raise ModelFormatError(f"the default model is missing from {p}: run `python -m irtoolkit.costmodel.train_default`")
    return CostModel.load(p, targets=targets)
