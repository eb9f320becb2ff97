"""Learned hardware cost models from IR text.

    from irtoolkit import costmodel
    model = costmodel.load()                       # the small default model shipped in the package
    for p in model.predict(open("kernel.ll").read()):
        print(p.function, p.values["machine_instructions"].value, p.ood)

Targets, units and label sources are in :mod:`irtoolkit.costmodel.targets`; datasets are built by
:mod:`irtoolkit.costmodel.dataset.build`; the model is :class:`irtoolkit.costmodel.model.CostModel`.  Heavy imports
(LightGBM, TVM) happen only when a model is used.
"""

from __future__ import annotations

from .api import DEFAULT_MODEL, load

__all__ = ["DEFAULT_MODEL", "CostModel", "load"]


def __getattr__(name: str):
    if name == "CostModel":
        from .model import CostModel

        return CostModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
