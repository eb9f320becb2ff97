"""Learned hardware cost models from IR text.

    import costmodel
    model = costmodel.load()                       # the small default model shipped in the package
    for p in model.predict(open("kernel.ll").read()):
        print(p.function, p.values["machine_instructions"].value, p.ood)

Targets, units and label sources are in :mod:`costmodel.targets`; datasets are built by
:mod:`costmodel.dataset.build`; the model is :class:`costmodel.model.CostModel`.  Heavy imports
(LightGBM, TVM) happen only when a model is used.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "default"

__all__ = ["DEFAULT_MODEL", "CostModel", "load"]


def load(path: str | os.PathLike | None = None):
    """The model saved at ``path`` (a folder with manifest.json), or the shipped default model."""
    from .model import CostModel, ModelFormatError

    p = Path(path) if path is not None else DEFAULT_MODEL
    if path is None and not (p / "manifest.json").is_file():
        raise ModelFormatError(f"the default model is missing from {p}: run `python -m costmodel.train_default`")
    return CostModel.load(p)


def __getattr__(name: str):
    if name == "CostModel":
        from .model import CostModel

        return CostModel
    raise AttributeError(f"module 'costmodel' has no attribute {name!r}")
