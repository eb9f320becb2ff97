"""The MLIR object model: thin views over the C parser's flat tables.

A :class:`Chunk` owns one parse (the C result handle, the source bytes and int32 views of every
table).  :class:`Operation`, :class:`Region`, :class:`Block` and :class:`Value` are ``(chunk, row)``
views made on access; two views of the same row are equal.  Types and attributes are frozen values
(:mod:`irtools.ir.mlir.attrs`) parsed from their text the first time they are asked for.
"""

from __future__ import annotations

import bisect
from itertools import chain, repeat

from ..._native import load
from . import attrs as _attrs

# column numbers, mirrored from csrc/mlirparse.h (checked against the C enum at load time)
NAME_OFF, NAME_LEN, PREFIX, FLAGS, PARENT, NEXT, RES_FIRST, RES_COUNT, OPD_FIRST, OPD_COUNT = range(10)
REG_FIRST, REG_COUNT, SUCC_FIRST, SUCC_COUNT, ATTR_OFF, ATTR_LEN, PROP_OFF, PROP_LEN = range(10, 18)
TYPE_OFF, TYPE_LEN, LOC_OFF, LOC_LEN, START, END, LINE, SYM_OFF, SYM_LEN, HDR_END, NAME_ID = range(18, 29)
OPW = 29  # op row width
F_GENERIC, F_IMPLICIT = 1, 2
T_OPS, T_VALUES, T_OPERANDS, T_REGIONS, T_BLOCKS, T_SUCCS, T_ALIASES, T_NAMES = range(8)

_lib = _ffi = None
_PREFIXES: list[str] = []
_IMPLICIT: list[str] = []


def _native():
    global _lib, _ffi
    if _lib is None:
        _lib, _ffi = load("mlirparse")
        if _lib.MLP_OP_WIDTH != OPW or _lib.MLP_OP_NAME_ID != NAME_ID or _lib.MLP_NTABLES != 8:
            raise ImportError("irtools._c_mlirparse does not match irtools/ir/mlir/model.py; rebuild it")
        i = 0
        while (s := _lib.mlp_prefix_name(i)) != _ffi.NULL:
            _PREFIXES.append(_ffi.string(s).decode())
            i += 1
        i = 0
        while (s := _lib.mlp_implicit_name(i)) != _ffi.NULL:
            _IMPLICIT.append(_ffi.string(s).decode())
            i += 1
    return _lib, _ffi


class Chunk:
    """One parsed chunk of a file: the C tables plus the bytes they index."""

    def __init__(self, data: bytes, begin: int, end: int, *, path=None):
        lib, ffi = _native()
        self.src = data
        self.begin, self.end = begin, end
        self.path = path
        self._cbuf = ffi.from_buffer(data)  # keeps the bytes pinned for the C side
        res = lib.mlp_parse(self._cbuf, begin, end)
        if res == ffi.NULL:
            raise MemoryError("mlp_parse: out of memory")
        self._res = ffi.gc(res, lib.mlp_free)
        off = ffi.new("size_t *")
        msg = ffi.new("const char **")
        self.error = None
        if lib.mlp_error(self._res, off, msg):
            self.error = (int(off[0]), ffi.string(msg[0]).decode("utf-8", "replace"))
        rows = ffi.new("const int32_t **")
        width = ffi.new("int *")
        self.tables = []
        self.widths = []
        self.counts = []
        for t in range(lib.MLP_NTABLES):
            n = lib.mlp_table(self._res, t, rows, width)
            self.widths.append(width[0])
            self.counts.append(n)
            if n:
                self.tables.append(memoryview(ffi.buffer(rows[0], 4 * n * width[0])).cast("i"))
            else:
                self.tables.append(memoryview(b"").cast("i"))
        self.ops, self.vals, self.opds, self.regs, self.blks, self.succs, self.aliases, names = self.tables
        # one string per distinct op name, built here once: op_name is then a table read
        self.names = []
        for k in range(self.counts[T_NAMES]):
            off, ln, pre = names[k * 3], names[k * 3 + 1], names[k * 3 + 2]
            self.names.append(_IMPLICIT[pre] if off < 0 else
                              _PREFIXES[pre] + data[off:off + ln].decode("utf-8", "surrogateescape"))
        self.top = lib.mlp_top(self._res)
        self._uses = None
        self._line_starts = None
        self._alias_map = None
        self._base_line = data.count(b"\n", 0, begin)

    # -- text helpers
    def text(self, off: int, length: int) -> str:
        return self.src[off:off + length].decode("utf-8", "surrogateescape")

    def line_col(self, off: int) -> tuple[int, int]:
        if self._line_starts is None:
            starts = [0]
            find = self.src.find
            i = find(b"\n")
            while i >= 0:
                starts.append(i + 1)
                i = find(b"\n", i + 1)
            self._line_starts = starts
        k = bisect.bisect_right(self._line_starts, off) - 1
        return k + 1, off - self._line_starts[k] + 1

    def source_line(self, line: int) -> str | None:
        self.line_col(0)
        if not 1 <= line <= len(self._line_starts):
            return None
        a = self._line_starts[line - 1]
        b = self.src.find(b"\n", a)
        return self.src[a:b if b >= 0 else len(self.src)].decode("utf-8", "replace")

    def op_name(self, i: int) -> str:
        return self.names[self.ops[i * OPW + NAME_ID]]

    @property
    def alias_map(self) -> dict[str, str]:
        """``'#map'``/``'!t'`` -> the aliased text."""
        if self._alias_map is None:
            a = self.aliases
            w = self.widths[T_ALIASES]
            self._alias_map = {self.text(a[k * w + 1], a[k * w + 2]): self.text(a[k * w + 3], a[k * w + 4])
                               for k in range(self.counts[T_ALIASES])}
        return self._alias_map

    def uses_of(self, v: int) -> list[int]:
        if self._uses is None:
            uses: dict[int, list[int]] = {}
            d = self.opds
            w = self.widths[T_OPERANDS]
            for k in range(self.counts[T_OPERANDS]):
                val = d[k * w]
                if val >= 0:
                    uses.setdefault(val, []).append(k)
            self._uses = uses
        return self._uses.get(v, [])

    def operand_owner(self, k: int) -> tuple[int, int]:
        """(op row, operand index) of operand row k."""
        if not hasattr(self, "_opd_owner"):
            owner = [0] * self.counts[T_OPERANDS]
            o = self.ops
            for i in range(self.counts[T_OPS]):
                first, cnt = o[i * OPW + OPD_FIRST], o[i * OPW + OPD_COUNT]
                for j in range(cnt):
                    owner[first + j] = i
            self._opd_owner = owner
        i = self._opd_owner[k]
        return i, k - self.ops[i * OPW + OPD_FIRST]

    def parse_type(self, off: int, length: int):
        if length <= 0:
            return None
        return _attrs.parse_type(self.text(off, length), self.alias_map)


class Operation:
    """An operation: a view of one row of the OPS table."""

    __slots__ = ("_c", "_i")

    def __init__(self, chunk: Chunk, index: int):
        self._c = chunk
        self._i = index

    def __eq__(self, other):
        return type(other) is Operation and other._c is self._c and other._i == self._i

    def __hash__(self):
        return hash((id(self._c), self._i))

    def __repr__(self):
        return f"<Operation {self.name} line {self.line}>"

    def _col(self, k):
        return self._c.ops[self._i * OPW + k]

    @property
    def name(self) -> str:
        c = self._c  # Chunk.op_name inlined: this is the hottest property of a walk
        return c.names[c.ops[self._i * OPW + NAME_ID]]

    @property
    def dialect(self) -> str:
        n = self.name
        k = n.find(".")
        return n[:k] if k > 0 else ""

    @property
    def is_generic(self) -> bool:
        return bool(self._col(FLAGS) & F_GENERIC)

    @property
    def is_implicit(self) -> bool:
        """True for ops that are not in the text (elided terminators, the implicit module)."""
        return bool(self._col(FLAGS) & F_IMPLICIT)

    @property
    def line(self) -> int:
        if self._col(FLAGS) & F_IMPLICIT:
            return self._c.line_col(self._col(START))[0]
        return self._c.line_col(self._col(START))[0]

    @property
    def col(self) -> int:
        return self._c.line_col(self._col(START))[1]

    @property
    def text(self) -> str:
        """The op's source text (empty for implicit ops)."""
        if self._col(FLAGS) & F_IMPLICIT:
            return ""
        return self._c.text(self._col(START), self._col(END) - self._col(START))

    @property
    def operands(self) -> list:
        c = self._c
        first, n = self._col(OPD_FIRST), self._col(OPD_COUNT)
        d = c.opds
        out = []
        for k in range(first, first + n):
            v = d[k * 4]
            out.append(Value(c, v) if v >= 0 else UnresolvedValue(c.text(d[k * 4 + 1], d[k * 4 + 2])))
        return out

    @property
    def results(self) -> list[Value]:
        first, n = self._col(RES_FIRST), self._col(RES_COUNT)
        return [Value(self._c, v) for v in range(first, first + n)]

    @property
    def regions(self) -> list[Region]:
        c = self._c
        out = []
        r = self._col(REG_FIRST)
        for _ in range(self._col(REG_COUNT)):
            out.append(Region(c, r))
            r = c.regs[r * 5 + 3]
        return out

    @property
    def successors(self) -> list:
        c = self._c
        first, n = self._col(SUCC_FIRST), self._col(SUCC_COUNT)
        return [Block(c, c.succs[k * 4]) if c.succs[k * 4] >= 0 else None for k in range(first, first + n)]

    @property
    def parent(self) -> Block | None:
        b = self._col(PARENT)
        return Block(self._c, b) if b >= 0 else None

    @property
    def parent_op(self) -> Operation | None:
        b = self._col(PARENT)
        if b < 0:
            return None
        r = self._c.blks[b * 10]
        return Operation(self._c, self._c.regs[r * 5])

    def _span(self, off_col, len_col) -> str | None:
        n = self._col(len_col)
        return self._c.text(self._col(off_col), n) if n > 0 else None

    @property
    def attribute_text(self) -> str | None:
        return self._span(ATTR_OFF, ATTR_LEN)

    @property
    def properties_text(self) -> str | None:
        return self._span(PROP_OFF, PROP_LEN)

    @property
    def type_text(self) -> str | None:
        """The trailing type: the function type of a generic op, what follows ``:`` in a pretty one."""
        return self._span(TYPE_OFF, TYPE_LEN)

    @property
    def location(self) -> str | None:
        return self._span(LOC_OFF, LOC_LEN)

    @property
    def attributes(self) -> dict:
        t = self.attribute_text
        return _attrs.parse_dict(t, self._c.alias_map) if t else {}

    @property
    def properties(self) -> dict:
        t = self.properties_text
        return _attrs.parse_dict(t, self._c.alias_map) if t else {}

    @property
    def sym_name(self) -> str | None:
        """The symbol this op defines (``sym_name``, or the ``@name`` of a pretty form)."""
        if self._col(FLAGS) & F_GENERIC:
            for d in (self.properties, self.attributes):
                a = d.get("sym_name")
                if isinstance(a, _attrs.StringAttr):
                    return a.value
            return None
        t = self._span(SYM_OFF, SYM_LEN)
        if t is None:
            return None
        return _attrs.unquote(t[1:]) if t[1:2] == '"' else t[1:]

    @property
    def function_type(self):
        """The op's type signature for generic ops, else None."""
        if not self.is_generic or self._col(TYPE_LEN) <= 0:
            return None
        return self._c.parse_type(self._col(TYPE_OFF), self._col(TYPE_LEN))

    def walk(self):
        """This op and every op nested in it, in pre-order."""
        c = self._c
        if c.ops[self._i * OPW + PARENT] < 0:
            # the top op owns every row, and rows are in pre-order (the implicit module comes last); the
            # views are made by map() in C, which halves the cost of walking a large module
            n, top = c.counts[T_OPS], self._i
            return chain((self,), map(Operation, repeat(c, top), range(top)),
                         map(Operation, repeat(c, n - top - 1), range(top + 1, n)))
        return self._walk_nested()

    def _walk_nested(self):
        c = self._c
        ops, regs, blks = c.ops, c.regs, c.blks
        stack = [self._i]
        while stack:
            i = stack.pop()
            yield Operation(c, i)
            nreg = ops[i * OPW + REG_COUNT]
            if not nreg:
                continue
            children = []
            r = ops[i * OPW + REG_FIRST]
            for _ in range(nreg):
                b = regs[r * 5 + 1]
                while b >= 0:
                    o = blks[b * 10 + 4]
                    while o >= 0:
                        children.append(o)
                        o = ops[o * OPW + NEXT]
                    b = blks[b * 10 + 1]
                r = regs[r * 5 + 3]
            children.reverse()
            stack.extend(children)

    def lookup_symbol(self, name: str) -> Operation | None:
        """The op that defines symbol ``name`` (``@a::@b`` nests) in this op's regions, or None."""
        parts = [p.lstrip("@") for p in name.split("::")]
        scope = self
        for part in parts:
            found = None
            for region in scope.regions:
                for block in region.blocks:
                    for op in block.operations:
                        if op.sym_name == part:
                            found = op
                            break
                    if found:
                        break
                if found:
                    break
            if found is None:
                return None
            scope = found
        return scope

    @property
    def chunk(self) -> Chunk:
        return self._c


class Region:
    __slots__ = ("_c", "_i")

    def __init__(self, chunk, index):
        self._c, self._i = chunk, index

    def __eq__(self, other):
        return type(other) is Region and other._c is self._c and other._i == self._i

    def __hash__(self):
        return hash((id(self._c), self._i, "r"))

    def __repr__(self):
        return f"<Region of {self.parent.name}>"

    @property
    def blocks(self) -> list[Block]:
        c = self._c
        out = []
        b = c.regs[self._i * 5 + 1]
        while b >= 0:
            out.append(Block(c, b))
            b = c.blks[b * 10 + 1]
        return out

    @property
    def parent(self) -> Operation:
        return Operation(self._c, self._c.regs[self._i * 5])


class Block:
    __slots__ = ("_c", "_i")

    def __init__(self, chunk, index):
        self._c, self._i = chunk, index

    def __eq__(self, other):
        return type(other) is Block and other._c is self._c and other._i == self._i

    def __hash__(self):
        return hash((id(self._c), self._i, "b"))

    def __repr__(self):
        return f"<Block {self.name or '(entry)'}>"

    @property
    def name(self) -> str | None:
        n = self._c.blks[self._i * 10 + 8]
        return self._c.text(self._c.blks[self._i * 10 + 7], n) if n > 0 else None

    @property
    def arguments(self) -> list[Value]:
        first, n = self._c.blks[self._i * 10 + 2], self._c.blks[self._i * 10 + 3]
        return [Value(self._c, v) for v in range(first, first + n)]

    @property
    def operations(self) -> list[Operation]:
        c = self._c
        out = []
        o = c.blks[self._i * 10 + 4]
        while o >= 0:
            out.append(Operation(c, o))
            o = c.ops[o * OPW + NEXT]
        return out

    def __len__(self):
        return self._c.blks[self._i * 10 + 6]

    @property
    def parent(self) -> Region:
        return Region(self._c, self._c.blks[self._i * 10])


class Value:
    """An SSA value: an op result or a block argument."""

    __slots__ = ("_c", "_i")

    def __init__(self, chunk, index):
        self._c, self._i = chunk, index

    def __eq__(self, other):
        return type(other) is Value and other._c is self._c and other._i == self._i

    def __hash__(self):
        return hash((id(self._c), self._i, "v"))

    def __repr__(self):
        return f"<Value {self.name}>"

    @property
    def is_block_argument(self) -> bool:
        return self._c.vals[self._i * 7] == 1

    @property
    def owner(self):
        """The defining Operation, or the Block for a block argument."""
        kind, owner = self._c.vals[self._i * 7], self._c.vals[self._i * 7 + 1]
        return Block(self._c, owner) if kind == 1 else Operation(self._c, owner)

    @property
    def index(self) -> int:
        return self._c.vals[self._i * 7 + 2]

    @property
    def name(self) -> str:
        """The name as written (``%x`` or ``%x#1`` for one of several results of ``%x:2``)."""
        v = self._c.vals
        if v[self._i * 7 + 4] <= 0:
            return ""  # a result the text does not name
        base = self._c.text(v[self._i * 7 + 3], v[self._i * 7 + 4])
        if v[self._i * 7] == 0:
            op = v[self._i * 7 + 1]
            first = self._c.ops[op * OPW + RES_FIRST]
            # position inside its `%x:N` group
            k = self._i
            while k > first and v[(k - 1) * 7 + 3] == v[self._i * 7 + 3]:
                k -= 1
            if self._i != k or (self._i + 1 < first + self._c.ops[op * OPW + RES_COUNT]
                                and v[(self._i + 1) * 7 + 3] == v[self._i * 7 + 3]):
                return f"{base}#{self._i - k}"
        return base

    @property
    def type(self):
        """The value's type, or None where the text does not say it (some pretty forms)."""
        c = self._c
        v = c.vals
        if v[self._i * 7 + 6] > 0:
            return c.parse_type(v[self._i * 7 + 5], v[self._i * 7 + 6])
        if v[self._i * 7] == 0:
            op = Operation(c, v[self._i * 7 + 1])
            types = _result_types(op)
            k = self.index
            if types is not None and k < len(types):
                return types[k]
        return None

    @property
    def uses(self) -> list[tuple[Operation, int]]:
        """(user op, operand index) for each use."""
        c = self._c
        return [tuple((Operation(c, i), j)) for i, j in (c.operand_owner(k) for k in c.uses_of(self._i))]


class UnresolvedValue:
    """A use in a pretty form whose definition could not be recovered without the dialect's grammar."""

    __slots__ = ("name",)
    owner = None
    type = None
    index = -1

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<UnresolvedValue {self.name}>"


def _result_types(op: Operation):
    if op.is_generic:
        ft = op.function_type
        return list(ft.results) if isinstance(ft, _attrs.FunctionType) else None
    from .pretty import result_types

    return result_types(op)
