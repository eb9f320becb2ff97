"""MLIR types and attributes as frozen values, parsed from their text on demand.

Builtin types and attributes get structure (``IntegerType(32)``, ``RankedTensorType((None, 4), f32)``,
``DenseArrayAttr``...); dialect ones (``!llvm.ptr``, ``#gpu.address_space<workgroup>``) are kept as
``OpaqueType``/``OpaqueAttr`` with their dialect and text.  Aliases are resolved through the chunk's
alias table.  The C parser has already checked the text, so this parser is lenient: anything it
cannot structure becomes an opaque value rather than an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ------------------------------------------------------------------------------------------- types


class Type:
    """Base of every type value."""


@dataclass(frozen=True)
class IntegerType(Type):
    width: int
    signedness: str = ""  # "", "si" or "ui"

    def __str__(self):
        return f"{self.signedness or 'i'}{self.width}"


@dataclass(frozen=True)
class FloatType(Type):
    name: str  # f16, f32, bf16, f8E4M3FN...

    @property
    def width(self) -> int:
        m = re.match(r"b?f(\d+)|tf(32)", self.name)
        return int(m.group(1) or m.group(2)) if m else 0

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class IndexType(Type):
    def __str__(self):
        return "index"


@dataclass(frozen=True)
class NoneType(Type):
    def __str__(self):
        return "none"


@dataclass(frozen=True)
class FunctionType(Type):
    inputs: tuple
    results: tuple

    def __str__(self):
        res = ", ".join(map(str, self.results))
        if len(self.results) != 1 or isinstance(self.results[0], FunctionType):
            res = f"({res})"
        return f"({', '.join(map(str, self.inputs))}) -> {res}"


@dataclass(frozen=True)
class TupleType(Type):
    types: tuple

    def __str__(self):
        return f"tuple<{', '.join(map(str, self.types))}>"


@dataclass(frozen=True)
class ComplexType(Type):
    element_type: Type

    def __str__(self):
        return f"complex<{self.element_type}>"


def _dims(shape, scalable=None):
    out = []
    for k, d in enumerate(shape):
        s = "?" if d is None else str(d)
        if scalable and scalable[k]:
            s = f"[{s}]"
        out.append(s + "x")
    return "".join(out)


@dataclass(frozen=True)
class RankedTensorType(Type):
    shape: tuple  # ints, None for '?'
    element_type: Type
    encoding: object = None

    def __str__(self):
        enc = f", {self.encoding}" if self.encoding is not None else ""
        return f"tensor<{_dims(self.shape)}{self.element_type}{enc}>"


@dataclass(frozen=True)
class UnrankedTensorType(Type):
    element_type: Type

    def __str__(self):
        return f"tensor<*x{self.element_type}>"


@dataclass(frozen=True)
class MemRefType(Type):
    shape: tuple
    element_type: Type
    layout: object = None
    memory_space: object = None

    def __str__(self):
        extra = "".join(f", {a}" for a in (self.layout, self.memory_space) if a is not None)
        return f"memref<{_dims(self.shape)}{self.element_type}{extra}>"


@dataclass(frozen=True)
class UnrankedMemRefType(Type):
    element_type: Type
    memory_space: object = None

    def __str__(self):
        ms = f", {self.memory_space}" if self.memory_space is not None else ""
        return f"memref<*x{self.element_type}{ms}>"


@dataclass(frozen=True)
class VectorType(Type):
    shape: tuple
    element_type: Type
    scalable: tuple = ()

    def __str__(self):
        return f"vector<{_dims(self.shape, self.scalable)}{self.element_type}>"


@dataclass(frozen=True)
class OpaqueType(Type):
    """A dialect type kept as text (``!llvm.ptr``, ``!hw.array<4xi1>``)."""

    dialect: str
    text: str

    def __str__(self):
        return self.text


ShapedTypes = (RankedTensorType, UnrankedTensorType, MemRefType, UnrankedMemRefType, VectorType)

# -------------------------------------------------------------------------------------- attributes


class Attribute:
    """Base of every attribute value."""


@dataclass(frozen=True)
class IntegerAttr(Attribute):
    value: int
    type: Type | None = None

    def __str__(self):
        return f"{self.value} : {self.type}" if self.type is not None else str(self.value)


@dataclass(frozen=True)
class FloatAttr(Attribute):
    value: float
    type: Type | None = None
    text: str = ""

    def __str__(self):
        t = self.text or repr(self.value)
        return f"{t} : {self.type}" if self.type is not None else t


@dataclass(frozen=True)
class BoolAttr(Attribute):
    value: bool

    def __str__(self):
        return "true" if self.value else "false"


@dataclass(frozen=True)
class UnitAttr(Attribute):
    def __str__(self):
        return "unit"


@dataclass(frozen=True)
class StringAttr(Attribute):
    value: str
    type: Type | None = None

    def __str__(self):
        return quote(self.value) + (f" : {self.type}" if self.type is not None else "")


@dataclass(frozen=True)
class ArrayAttr(Attribute):
    value: tuple

    def __str__(self):
        return f"[{', '.join(map(str, self.value))}]"

    def __iter__(self):
        return iter(self.value)

    def __len__(self):
        return len(self.value)


@dataclass(frozen=True)
class DictionaryAttr(Attribute):
    items: tuple  # ((name, Attribute), ...)

    def to_dict(self) -> dict:
        return dict(self.items)

    def __str__(self):
        return "{" + ", ".join(f"{k} = {v}" if not isinstance(v, UnitAttr) else k for k, v in self.items) + "}"


@dataclass(frozen=True)
class SymbolRefAttr(Attribute):
    root: str
    nested: tuple = ()

    def __str__(self):
        return "::".join("@" + _sym(s) for s in (self.root, *self.nested))


@dataclass(frozen=True)
class TypeAttr(Attribute):
    value: Type

    def __str__(self):
        return str(self.value)


@dataclass(frozen=True)
class DenseArrayAttr(Attribute):
    element_type: Type
    values: tuple

    def __str__(self):
        body = ", ".join(map(str, self.values))
        return f"array<{self.element_type}{': ' + body if body else ''}>"


@dataclass(frozen=True)
class ElementsAttr(Attribute):
    """``dense<...>``, ``sparse<...>``, ``dense_resource<...>`` with their type; the body kept as text."""

    kind: str
    body: str
    type: Type | None = None

    def __str__(self):
        return f"{self.kind}<{self.body}>" + (f" : {self.type}" if self.type is not None else "")


@dataclass(frozen=True)
class AffineMapAttr(Attribute):
    text: str  # what is inside affine_map<...>

    @property
    def num_dims(self) -> int:
        m = re.match(r"\s*\(([^)]*)\)", self.text)
        return len([d for d in m.group(1).split(",") if d.strip()]) if m else 0

    @property
    def num_symbols(self) -> int:
        m = re.match(r"\s*\([^)]*\)\s*\[([^\]]*)\]", self.text)
        return len([d for d in m.group(1).split(",") if d.strip()]) if m else 0

    def __str__(self):
        return f"affine_map<{self.text}>"


@dataclass(frozen=True)
class AffineSetAttr(Attribute):
    text: str

    def __str__(self):
        return f"affine_set<{self.text}>"


@dataclass(frozen=True)
class StridedLayoutAttr(Attribute):
    strides: tuple  # ints, None for '?'
    offset: int | None = 0

    def __str__(self):
        st = ", ".join("?" if s is None else str(s) for s in self.strides)
        off = "" if self.offset == 0 else f", offset: {'?' if self.offset is None else self.offset}"
        return f"strided<[{st}]{off}>"


@dataclass(frozen=True)
class LocationAttr(Attribute):
    text: str

    def __str__(self):
        return self.text


@dataclass(frozen=True)
class OpaqueAttr(Attribute):
    """A dialect attribute, or builtin syntax this parser does not structure, kept as text."""

    dialect: str
    text: str

    def __str__(self):
        return self.text


# ------------------------------------------------------------------------------------------ parser

_TOKEN = re.compile(r"""
 (?P<ws>(?:\s+|//[^\n]*)+)
|(?P<str>"(?:[^"\\\n]|\\.)*")
|(?P<float>\d+\.\d*(?:[eE][+-]?\d+)?)
|(?P<hex>0x[0-9a-fA-F]+)
|(?P<int>\d+)
|(?P<bare>[A-Za-z_][A-Za-z0-9_$.]*)
|(?P<hash>\#[A-Za-z0-9_$.\-]+)
|(?P<excl>!(?:[A-Za-z_][A-Za-z0-9_$.]*|"(?:[^"\\\n]|\\.)*"))
|(?P<at>@(?:"(?:[^"\\\n]|\\.)*"|[A-Za-z0-9_$.\-]+))
|(?P<op>->|::|<=|>=|[()\[\]{}<>,:=?*+\-])
|(?P<other>.)
""", re.X | re.S)

_INT_TYPE = re.compile(r"(si|ui|i)(\d+)$")
_FLOAT_TYPE = re.compile(r"(f16|f32|f64|f80|f128|bf16|tf32|f\d+E\d+M\d+\w*)$")
_OPEN = {"(": ")", "[": "]", "{": "}", "<": ">"}


def unquote(s: str) -> str:
    """The value of an MLIR string literal (with or without its quotes)."""
    if s[:1] == '"':
        s = s[1:-1]
    if "\\" not in s:
        return s
    out = bytearray()
    i = 0
    b = s.encode("utf-8", "surrogateescape")
    while i < len(b):
        c = b[i]
        if c == 0x5C and i + 1 < len(b):
            d = chr(b[i + 1])
            if d in "\"\\":
                out.append(b[i + 1])
                i += 2
                continue
            if d == "n":
                out.append(10)
                i += 2
                continue
            if d == "t":
                out.append(9)
                i += 2
                continue
            try:
                out.append(int(b[i + 1:i + 3], 16))
                i += 3
                continue
            except ValueError:
                pass
        out.append(c)
        i += 1
    return out.decode("utf-8", "surrogateescape")


def quote(s: str) -> str:
    out = []
    for ch in s.encode("utf-8", "surrogateescape"):
        c = chr(ch)
        if c == '"' or c == "\\":
            out.append("\\" + c)
        elif 32 <= ch < 127:
            out.append(c)
        else:
            out.append(f"\\{ch:02X}")
    return '"' + "".join(out) + '"'


def _sym(s: str) -> str:
    return s if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$.]*", s) else quote(s)


class _Lexer:
    def __init__(self, text: str, aliases: dict | None):
        self.text = text
        self.aliases = aliases or {}
        self.toks = []
        pos = 0
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            if kind != "ws":
                self.toks.append((kind, m.group(), m.start(), m.end()))
            pos = m.end()
        self.toks.append(("eof", "", pos, pos))
        self.i = 0

    @property
    def tok(self):
        return self.toks[self.i]

    def next(self):
        t = self.toks[self.i]
        if self.i < len(self.toks) - 1:
            self.i += 1
        return t

    def accept(self, s):
        if self.toks[self.i][1] == s:
            self.next()
            return True
        return False

    def balanced(self) -> str:
        """Consume a bracketed group from the current opener; return the text between the brackets."""
        stack = []
        start = self.tok[3]
        while True:
            kind, s, a, b = self.next()
            if kind == "eof":
                raise ValueError("unbalanced")
            if s in _OPEN:
                stack.append(_OPEN[s])
            elif s in (")", "]", "}", ">"):
                if not stack or stack.pop() != s:
                    raise ValueError("unbalanced")
                if not stack:
                    return self.text[start:a]

    def adjacent_lt(self):
        t = self.tok
        return self.i + 1 < len(self.toks) and self.toks[self.i + 1][1] == "<" and self.toks[self.i + 1][2] == t[3]


def _split_top(text: str) -> list[str]:
    """Split at top-level commas (outside brackets and strings)."""
    parts, depth, start, i = [], 0, 0, 0
    in_str = False
    while i < len(text):
        c = text[i]
        if in_str:
            if c == "\\":
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
        elif c in "([{<":
            depth += 1
        elif c in ")]}>" and not (c == ">" and i > 0 and text[i - 1] == "-"):
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


_DIMS = re.compile(r"\s*((?:(?:\d+|\?|\[\d+\])\s*x\s*)*)")


def _shape(prefix: str):
    shape, scal = [], []
    for d in re.findall(r"(\d+|\?|\[\d+\])\s*x", prefix):
        if d.startswith("["):
            scal.append(True)
            d = d[1:-1]
        else:
            scal.append(False)
        shape.append(None if d == "?" else int(d))
    return tuple(shape), tuple(scal)


def _shaped(kw: str, body: str, aliases):
    if kw in ("tensor", "memref") and body.lstrip().startswith("*"):
        rest = _split_top(body.lstrip()[1:].lstrip().lstrip("x"))
        elem = parse_type(rest[0], aliases)
        if kw == "tensor":
            return UnrankedTensorType(elem)
        return UnrankedMemRefType(elem, parse_attr(rest[1], aliases) if len(rest) > 1 else None)
    m = _DIMS.match(body)
    shape, scal = _shape(m.group(1))
    rest = _split_top(body[m.end():])
    if not rest:
        raise ValueError("no element type")
    elem = parse_type(rest[0], aliases)
    extra = [parse_attr(r, aliases) for r in rest[1:]]
    if kw == "tensor":
        return RankedTensorType(shape, elem, extra[0] if extra else None)
    if kw == "vector":
        return VectorType(shape, elem, scal if any(scal) else ())
    layout = memspace = None
    for a in extra:
        if isinstance(a, (AffineMapAttr, StridedLayoutAttr)) or (layout is None and memspace is None
                                                                 and isinstance(a, OpaqueAttr)
                                                                 and "layout" in a.text):
            layout = a
        else:
            memspace = a
    return MemRefType(shape, elem, layout, memspace)


def _type(lx: _Lexer, aliases) -> Type:
    kind, s, a, b = lx.tok
    if s == "(":
        lx.next()
        ins = []
        if not lx.accept(")"):
            while True:
                ins.append(_type(lx, aliases))
                if lx.accept(","):
                    continue
                lx.accept(")")
                break
        if not lx.accept("->"):
            raise ValueError("expected '->'")
        if lx.tok[1] == "(":
            lx.next()
            outs = []
            if not lx.accept(")"):
                while True:
                    outs.append(_type(lx, aliases))
                    if lx.accept(","):
                        continue
                    lx.accept(")")
                    break
        else:
            outs = [_type(lx, aliases)]
        return FunctionType(tuple(ins), tuple(outs))
    if kind == "excl":
        body_start = a
        adjacent = lx.adjacent_lt()
        lx.next()
        if adjacent:
            lx.balanced()
        text = lx.text[body_start:lx.toks[lx.i - 1][3]]
        name = s[1:]
        if "." not in name and not adjacent and s in aliases:
            return parse_type(aliases[s], aliases)
        return OpaqueType(name.split(".")[0], text)
    if kind == "bare":
        lx.next()
        m = _INT_TYPE.match(s)
        if m:
            return IntegerType(int(m.group(2)), "" if m.group(1) == "i" else m.group(1))
        if _FLOAT_TYPE.match(s):
            return FloatType(s)
        if s == "index":
            return IndexType()
        if s == "none":
            return NoneType()
        if s in ("tensor", "memref", "vector", "complex", "tuple") and lx.tok[1] == "<":
            body = lx.balanced()
            if s == "complex":
                return ComplexType(parse_type(body, aliases))
            if s == "tuple":
                return TupleType(tuple(parse_type(t, aliases) for t in _split_top(body)))
            return _shaped(s, body, aliases)
        if lx.tok[1] == "<":
            lx.balanced()
        return OpaqueType("builtin", lx.text[a:lx.toks[lx.i - 1][3]])
    raise ValueError(f"expected type at {s!r}")


def _hex_float(s: str, t) -> float:
    """A float written as its bit pattern (``0x7FC00000 : f32``)."""
    import struct

    bits = int(s, 16)
    w = t.width if isinstance(t, FloatType) else 0
    if w == 32:
        return struct.unpack("<f", struct.pack("<I", bits & 0xFFFFFFFF))[0]
    if w == 64:
        return struct.unpack("<d", struct.pack("<Q", bits & 0xFFFFFFFFFFFFFFFF))[0]
    if w == 16 and t.name == "f16":
        return struct.unpack("<e", struct.pack("<H", bits & 0xFFFF))[0]
    return float("nan")


def _number(s: str):
    if s.startswith("0x"):
        return int(s, 16)
    return int(s)


def _attr(lx: _Lexer, aliases) -> Attribute:
    kind, s, a, b = lx.tok
    if s == "[":
        lx.next()
        items = []
        if not lx.accept("]"):
            while True:
                items.append(_attr(lx, aliases))
                if lx.accept(","):
                    continue
                lx.accept("]")
                break
        return ArrayAttr(tuple(items))
    if s == "{":
        return DictionaryAttr(tuple(_dict(lx, aliases).items()))
    if kind == "str":
        lx.next()
        t = _opt_type(lx, aliases)
        return StringAttr(unquote(s), t)
    if kind in ("int", "hex", "float") or (s == "-" and lx.toks[lx.i + 1][0] in ("int", "float", "hex")):
        neg = lx.accept("-")
        kind, s, a, b = lx.next()
        t = _opt_type(lx, aliases)
        if kind == "float" or (kind == "hex" and isinstance(t, FloatType)):
            v = float(s) if kind == "float" else _hex_float(s, t)
            return FloatAttr(-v if neg else v, t, ("-" if neg else "") + s)
        v = _number(s)
        return IntegerAttr(-v if neg else v, t)
    if kind == "at":
        lx.next()
        root = unquote(s[1:]) if s[1:2] == '"' else s[1:]
        nested = []
        while lx.tok[1] == "::" and lx.toks[lx.i + 1][0] == "at":
            lx.next()
            n = lx.next()[1]
            nested.append(unquote(n[1:]) if n[1:2] == '"' else n[1:])
        return SymbolRefAttr(root, tuple(nested))
    if kind == "hash":
        adjacent = lx.adjacent_lt()
        lx.next()
        if adjacent:
            lx.balanced()
        text = lx.text[a:lx.toks[lx.i - 1][3]]
        name = s[1:]
        if not adjacent and "." not in name and s in aliases:
            return parse_attr(aliases[s], aliases)
        if name.startswith("loc"):
            return LocationAttr(text)
        return OpaqueAttr(name.split(".")[0], text)
    if kind == "bare":
        if s in ("true", "false"):
            lx.next()
            return BoolAttr(s == "true")
        if s == "unit":
            lx.next()
            return UnitAttr()
        if s in ("dense", "sparse", "dense_resource") and lx.toks[lx.i + 1][1] == "<":
            lx.next()
            body = lx.balanced()
            return ElementsAttr(s, body, _opt_type(lx, aliases))
        if s == "array" and lx.toks[lx.i + 1][1] == "<":
            lx.next()
            body = lx.balanced()
            head, _, vals = body.partition(":")
            et = parse_type(head, aliases)
            values = []
            for v in _split_top(vals):
                if v in ("true", "false"):
                    values.append(v == "true")
                else:
                    try:
                        values.append(int(v, 0))
                    except ValueError:
                        values.append(float(v))
            return DenseArrayAttr(et, tuple(values))
        if s == "affine_map" and lx.toks[lx.i + 1][1] == "<":
            lx.next()
            return AffineMapAttr(lx.balanced())
        if s == "affine_set" and lx.toks[lx.i + 1][1] == "<":
            lx.next()
            return AffineSetAttr(lx.balanced())
        if s == "strided" and lx.toks[lx.i + 1][1] == "<":
            lx.next()
            body = lx.balanced()
            m = re.match(r"\s*\[([^\]]*)\]\s*(?:,\s*offset\s*:\s*(\?|-?\d+))?\s*$", body)
            if not m:
                return OpaqueAttr("builtin", f"strided<{body}>")
            st = tuple(None if x.strip() == "?" else int(x) for x in m.group(1).split(",") if x.strip())
            off = m.group(2)
            return StridedLayoutAttr(st, 0 if off is None else (None if off == "?" else int(off)))
        if s == "loc" and lx.toks[lx.i + 1][1] == "(":
            lx.next()
            lx.balanced()
            return LocationAttr(lx.text[a:lx.toks[lx.i - 1][3]])
        if s == "distinct":
            lx.next()
            lx.balanced()
            if lx.tok[1] == "<":
                lx.balanced()
            return OpaqueAttr("builtin", lx.text[a:lx.toks[lx.i - 1][3]])
    return TypeAttr(_type(lx, aliases))


def _opt_type(lx, aliases):
    if lx.tok[1] == ":":
        lx.next()
        return _type(lx, aliases)
    return None


def _dict(lx: _Lexer, aliases) -> dict:
    out = {}
    if not lx.accept("{"):
        raise ValueError("expected '{'")
    if lx.accept("}"):
        return out
    while True:
        kind, s, a, b = lx.next()
        key = unquote(s) if kind == "str" else s
        out[key] = _attr(lx, aliases) if lx.accept("=") else UnitAttr()
        if lx.accept(","):
            continue
        lx.accept("}")
        return out


def parse_type(text: str, aliases: dict | None = None) -> Type:
    """A type from its text; a type this parser cannot structure comes back as ``OpaqueType``."""
    try:
        lx = _Lexer(text, aliases)
        t = _type(lx, aliases or {})
        if lx.tok[0] != "eof":
            raise ValueError("trailing text")
        return t
    except (ValueError, IndexError, RecursionError):
        return OpaqueType(text.lstrip("!").split(".")[0].split("<")[0], text.strip())


def parse_attr(text: str, aliases: dict | None = None) -> Attribute:
    """An attribute from its text; one this parser cannot structure comes back as ``OpaqueAttr``."""
    try:
        lx = _Lexer(text, aliases)
        a = _attr(lx, aliases or {})
        if lx.tok[0] != "eof":
            raise ValueError("trailing text")
        return a
    except (ValueError, IndexError, RecursionError):
        return OpaqueAttr("", text.strip())


def parse_dict(text: str, aliases: dict | None = None) -> dict:
    """An attribute dictionary ``{a = 1, b}`` as a Python dict of name -> Attribute."""
    try:
        lx = _Lexer(text, aliases)
        return _dict(lx, aliases or {})
    except (ValueError, IndexError, RecursionError):
        return {}


def parse_type_list(text: str, aliases: dict | None = None) -> list[Type]:
    """Comma-separated types (the trailing ``: T1, T2`` of a pretty op)."""
    return [parse_type(t, aliases) for t in _split_top(text)]
