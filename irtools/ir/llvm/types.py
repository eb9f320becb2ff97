"""LLVM types as frozen values: two types are equal when they spell the same type.

A type built by the parser is interned per distinct type text, so a module holds one object
per type however many instructions use it.  ``str(t)`` is LLVM's spelling.
"""

from __future__ import annotations

from dataclasses import dataclass

from .names import format_name


class Type:
    """Base of every LLVM type; the predicates are false unless a subclass says otherwise."""

    __slots__ = ()
    is_integer = False
    is_float = False
    is_pointer = False
    is_vector = False
    is_aggregate = False
    is_function = False
    is_void = False
    is_label = False
    is_metadata = False
    is_token = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"


@dataclass(frozen=True, repr=False)
class VoidType(Type):
    is_void = True

    def __str__(self) -> str:
        return "void"


@dataclass(frozen=True, repr=False)
class LabelType(Type):
    is_label = True

    def __str__(self) -> str:
        return "label"


@dataclass(frozen=True, repr=False)
class MetadataType(Type):
    is_metadata = True

    def __str__(self) -> str:
        return "metadata"


@dataclass(frozen=True, repr=False)
class TokenType(Type):
    is_token = True

    def __str__(self) -> str:
        return "token"


@dataclass(frozen=True, repr=False)
class X86AMXType(Type):
    def __str__(self) -> str:
        return "x86_amx"


@dataclass(frozen=True, repr=False)
class X86MMXType(Type):
    def __str__(self) -> str:
        return "x86_mmx"


@dataclass(frozen=True, repr=False)
class OpaqueType(Type):
    """The body of ``%T = type opaque``."""

    def __str__(self) -> str:
        return "opaque"


@dataclass(frozen=True, repr=False)
class IntType(Type):
    width: int
    is_integer = True

    def __str__(self) -> str:
        return f"i{self.width}"


FLOAT_KINDS = ("half", "bfloat", "float", "double", "x86_fp80", "fp128", "ppc_fp128")
FLOAT_BITS = {"half": 16, "bfloat": 16, "float": 32, "double": 64, "x86_fp80": 80, "fp128": 128,
              "ppc_fp128": 128}


@dataclass(frozen=True, repr=False)
class FloatType(Type):
    kind: str
    is_float = True

    def __post_init__(self):
        if self.kind not in FLOAT_KINDS:
            raise ValueError(f"unknown floating-point type {self.kind!r}")

    @property
    def width(self) -> int:
        return FLOAT_BITS[self.kind]

    def __str__(self) -> str:
        return self.kind


@dataclass(frozen=True, repr=False)
class PointerType(Type):
    """``ptr [addrspace(N)]``; typed pointers of LLVM < 17 (``i32*``) keep their ``pointee``."""

    addrspace: int = 0
    pointee: Type | None = None
    is_pointer = True

    def __str__(self) -> str:
        if self.pointee is not None:
            return f"{self.pointee} addrspace({self.addrspace})*" if self.addrspace else f"{self.pointee}*"
        return f"ptr addrspace({self.addrspace})" if self.addrspace else "ptr"


@dataclass(frozen=True, repr=False)
class VectorType(Type):
    element: Type
    count: int
    scalable: bool = False
    is_vector = True

    def __str__(self) -> str:
        return f"<vscale x {self.count} x {self.element}>" if self.scalable else f"<{self.count} x {self.element}>"


@dataclass(frozen=True, repr=False)
class ArrayType(Type):
    element: Type
    count: int
    is_aggregate = True

    def __str__(self) -> str:
        return f"[{self.count} x {self.element}]"


@dataclass(frozen=True, repr=False)
class StructType(Type):
    elements: tuple[Type, ...]
    packed: bool = False
    is_aggregate = True

    def __str__(self) -> str:
        if not self.elements:
            return "<{}>" if self.packed else "{}"
        body = ", ".join(map(str, self.elements))
        return f"<{{ {body} }}>" if self.packed else f"{{ {body} }}"


@dataclass(frozen=True, repr=False)
class NamedStructType(Type):
    """``%name``: an identified struct; ``module.named_types[name]`` (or ``resolve``) gives its body."""

    name: str
    is_aggregate = True

    def resolve(self, module) -> Type:
        return module.named_types[self.name]

    def __str__(self) -> str:
        return "%" + format_name(self.name)


@dataclass(frozen=True, repr=False)
class FunctionType(Type):
    return_type: Type
    params: tuple[Type, ...] = ()
    vararg: bool = False
    is_function = True

    def __str__(self) -> str:
        ps = [str(p) for p in self.params] + (["..."] if self.vararg else [])
        return f"{self.return_type} ({', '.join(ps)})"


@dataclass(frozen=True, repr=False)
class TargetExtType(Type):
    """``target("name", types..., ints...)``, kept as its text."""

    text: str

    def __str__(self) -> str:
        return self.text


__all__ = [
    "ArrayType", "FloatType", "FunctionType", "IntType", "LabelType", "MetadataType", "NamedStructType",
    "OpaqueType", "PointerType", "StructType", "TargetExtType", "TokenType", "Type", "VectorType",
    "VoidType", "X86AMXType", "X86MMXType",
]
