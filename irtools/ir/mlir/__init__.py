"""MLIR: a dialect-agnostic parser (generic form of any dialect, pretty forms by structure), a lazy
object model over the C parser's tables, a generic printer and analyses.

    >>> from irtools.ir.mlir import parse_mlir
    >>> module = parse_mlir("func.func @f() { return }")
"""

from __future__ import annotations

from .attrs import Attribute, Type, parse_attr, parse_type
from .model import Block, Operation, Region, UnresolvedValue, Value
from .parser import parse_mlir, parse_mlir_file

__all__ = ["Attribute", "Block", "Operation", "Region", "Type", "UnresolvedValue", "Value", "parse_attr",
           "parse_mlir", "parse_mlir_file", "parse_type"]
