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

from .api import DEFAULT_MODEL, load

__all__ = ["DEFAULT_MODEL", "CostModel", "load"]


def __getattr__(name: str):
    if name == "CostModel":
        from .model import CostModel

        return CostModel
    raise AttributeError(f"module 'costmodel' has no attribute {name!r}")
