"""LLVM IR: a C parser (``csrc/llparse.c``), a lazy object model over its tables, a printer.

    from irtools import parse_llvm
    m = parse_llvm_file("file.ll")   # or parse_llvm(text), parse_llvm(Path("file.ll"))
    for inst in m.instructions():
        inst.opcode, inst.type, inst.operands
"""

from __future__ import annotations

from . import types
from .module import (
    Argument,
    Block,
    Constant,
    ConstantKind,
    Function,
    GlobalAlias,
    GlobalIFunc,
    GlobalVariable,
    InlineAsm,
    Instruction,
    MetadataValue,
    Module,
    Value,
    parse_llvm,
    parse_llvm_file,
)
from .types import (
    ArrayType,
    FloatType,
    FunctionType,
    IntType,
    LabelType,
    MetadataType,
    NamedStructType,
    OpaqueType,
    PointerType,
    StructType,
    TargetExtType,
    TokenType,
    Type,
    VectorType,
    VoidType,
    X86AMXType,
    X86MMXType,
)

__all__ = [
    "Argument", "ArrayType", "Block", "Constant", "ConstantKind", "FloatType", "Function", "FunctionType",
    "GlobalAlias", "GlobalIFunc", "GlobalVariable", "InlineAsm", "Instruction", "IntType", "LabelType",
    "MetadataType", "MetadataValue", "Module", "NamedStructType", "OpaqueType", "PointerType", "StructType",
    "TargetExtType", "TokenType", "Type", "Value", "VectorType", "VoidType", "X86AMXType", "X86MMXType",
    "parse_llvm", "parse_llvm_file", "types",
]
