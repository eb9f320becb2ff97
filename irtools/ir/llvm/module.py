"""The LLVM IR object model: lazy views over the C parser's flat tables.

``parse_llvm`` runs ``csrc/llparse.c`` once over the bytes; NumPy arrays view the tables it fills
(the C memory is freed with the module) and columns become Python lists when first needed.
Every object below is a view: the module plus a row number; all of them are made in one go on
first access and cached, so identity holds (``inst.block is inst.block``) and values compare by
identity, as in LLVM.  Types and constants' kinds are values (see ``types.py``).

Edits the printer honours: ``name`` setters on instructions, arguments, blocks and globals, and
the lists ``Module.functions``, ``Function.blocks`` and ``Block.instructions`` (remove or reorder
entries; unnamed values are renumbered when printed).
"""

from __future__ import annotations

import enum
import gc
import os
import re
import struct
from collections import deque
from collections.abc import Iterator
from functools import cached_property
from itertools import islice, repeat

import numpy as np

from ...errors import ParseError
from ..source import read_source
from . import types as T
from .names import decode_name, format_name, unescape

# value kinds (csrc/llparse.h LLP_V_*)
_V_FUNC, _V_GVAR, _V_ALIAS, _V_IFUNC, _V_ARG, _V_INST, _V_BLOCK, _V_CONST = range(1, 9)
_TABLES = ("values", "insts", "blocks", "funcs", "args", "globals", "types", "typelist", "named", "consts",
           "operands", "refs", "entities", "dbgrecs", "indices")


class ConstantKind(enum.IntEnum):
    INT = 1
    FP = 2
    NULL = 3
    UNDEF = 4
    POISON = 5
    ZERO = 6          # zeroinitializer
    AGGREGATE = 7     # [..], {..}, <..>, <{..}>
    STRING = 8        # c"..."
    EXPR = 9          # constant expression: .opcode, .operands
    BLOCKADDRESS = 10
    NONE = 11         # token none
    OTHER = 12        # dso_local_equivalent, no_cfi, ptrauth, splat


_C_METADATA, _C_ASM = 13, 14

TERMINATORS = frozenset({"ret", "br", "switch", "indirectbr", "invoke", "resume", "unreachable", "cleanupret",
                         "catchret", "catchswitch", "callbr"})
CALLS = frozenset({"call", "invoke", "callbr"})

LINKAGES = frozenset({"private", "internal", "available_externally", "linkonce", "weak", "common", "appending",
                      "extern_weak", "linkonce_odr", "weak_odr", "external"})
_CC_WORDS = re.compile(r"^(ccc|fastcc|coldcc|tailcc|swiftcc|swifttailcc|cfguard_checkcc|ghccc|webkit_jscc|"
                       r"anyregcc|preserve_\w+cc|cxx_fast_tlscc|\w+_\w*cc|amdgpu_\w+|spir_\w+|aarch64_\w+|"
                       r"ptx_\w+|msp430_\w+|avr_\w+|riscv_\w+|m68k_\w+|intel_ocl_bicc|hhvmcc|hhvm_ccc|"
                       r"win64cc|x86_\w+cc|arm_\w+cc|graalcc)$")
_HDR_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"(?:\s*=\s*"(?:[^"\\]|\\.)*")?|#\d+|[%@!$]?[-\w.$]+|\S')
_MD_ATTACH = re.compile(rb"!([-\w.$\\]+)\s+(!(?:[-\w.$\\]+|\{[^}]*\}|[A-Za-z]\w*\([^)]*\)))")


def _load():
    from ..._native import load

    return load("llparse")   # checks the table layout (LLP_ABI) _COLS below reads


_PATHLIKE = re.compile(r"\s*[\w.~/\\:+-]+\.(ll|mlir|bc|txt)\s*")


def path_hint(source, err: ParseError, reader: str) -> ParseError:
    """``err``, with a hint when the text parsed was a one-line ``str`` that reads like a file name."""
    if isinstance(source, str) and _PATHLIKE.fullmatch(source):
        return ParseError(f"{err.message} (a str is IR text: to read the file {source.strip()!r}, pass "
                          f"pathlib.Path({source.strip()!r}) or call {reader}())", path=err.path, line=err.line,
                          col=err.col, source_line=err.source_line, offset=err.offset)
    return err


def parse_llvm(source, *, path=None) -> Module:
    """Parse LLVM IR into a ``Module``; raises ``ParseError``.

    ``source`` is IR text (``str``), its bytes, or a file as a ``pathlib.Path`` (or any
    ``os.PathLike``).  A ``str`` is always text, never a file name: use :func:`parse_llvm_file` or a
    ``Path`` to read a file.  ``path`` names the text in error messages.
    """
    data, path = read_source(source, path, "parse_llvm")
    try:
        return Module(data, path)
    except ParseError as e:
        raise path_hint(source, e, "parse_llvm_file") from None


def parse_llvm_file(path: str | os.PathLike) -> Module:
    """Parse the LLVM IR file at ``path`` (a ``str`` or ``Path``); raises ``OSError`` or ``ParseError``."""
    with open(os.fspath(path), "rb") as f:
        data = f.read()
    return Module(data, os.fspath(path))


def parse_tables(data: bytes):
    """Run the C parser; returns (tables dict of int32 arrays, type text) or raises ParseError args."""
    lib, ffi = _load()
    m = lib.llp_parse(data, len(data))
    if m == ffi.NULL:
        raise MemoryError("llparse: out of memory")
    # the arrays below are views of C memory: the handle frees it when the last view's owner goes
    m = ffi.gc(m, lib.llp_free)
    off = ffi.new("size_t *")
    line = ffi.new("int *")
    col = ffi.new("int *")
    msg = ffi.new("char **")
    if lib.llp_error(m, off, line, col, msg):
        err = (ffi.string(msg[0]).decode("utf-8", "replace"), int(off[0]), line[0], col[0])
        ffi.release(m)
        return None, err
    rows = ffi.new("int32_t **")
    width = ffi.new("int *")
    tables = {}
    for k, name in enumerate(_TABLES):
        n = lib.llp_table(m, k, rows, width)
        w = width[0]
        if n:
            a = np.frombuffer(ffi.buffer(rows[0], n * w * 4), dtype=np.int32).reshape(n, w)
        else:
            a = np.zeros((0, w), dtype=np.int32)
        tables[name] = a
    tlen = ffi.new("size_t *")
    tp = lib.llp_typetext(m, tlen)
    ttext = bytes(ffi.buffer(tp, tlen[0])) if tlen[0] else b""
    tables["_handle"] = m
    return (tables, ttext), None


_OPNAMES: list[str] | None = None
_FLAGNAMES: list[str] | None = None


def _names():
    global _OPNAMES, _FLAGNAMES
    if _OPNAMES is None:
        lib, ffi = _load()
        ops = [""]
        k = 1
        while (p := lib.llp_opcode_name(k)) != ffi.NULL:
            ops.append(ffi.string(p).decode())
            k += 1
        flags = []
        k = 0
        while (p := lib.llp_flag_name(k)) != ffi.NULL:
            flags.append(ffi.string(p).decode())
            k += 1
        _OPNAMES, _FLAGNAMES = ops, flags
    return _OPNAMES, _FLAGNAMES


class _Cols:
    """Columns of one table as Python lists, made on first access."""

    def __init__(self, arr: np.ndarray, names: tuple[str, ...]):
        self._arr = arr
        self._names = {n: i for i, n in enumerate(names)}
        self.n = arr.shape[0]

    def __getattr__(self, name):
        i = self._names[name]
        v = self._arr[:, i].tolist()
        setattr(self, name, v)
        return v


_COLS = {
    "values": ("kind", "index", "type"),
    "insts": ("op", "flags", "type", "block", "op_start", "nops", "ntotal", "off", "end", "name_off", "name_len",
              "key", "ref_start", "ref_end", "md", "vid", "aux", "nargs"),
    "blocks": ("func", "name_off", "name_len", "inst_start", "inst_count", "vid", "label_off", "label_end"),
    "funcs": ("vid", "name_off", "name_len", "type", "arg_start", "arg_count", "block_start", "block_count",
              "is_decl", "off", "hdr_end", "end", "ref_start", "ref_end", "tail_off", "tail_ref_start",
              "personality", "prefix", "prologue", "addrspace"),
    "args": ("func", "type", "name_off", "name_len", "vid", "index"),
    "globals": ("kind", "vid", "name_off", "name_len", "value_type", "init", "off", "end", "ref_start", "ref_end",
                "is_constant", "addrspace"),
    "types": ("kind", "a", "b", "c", "list_off", "list_len", "text_off", "text_len"),
    "named": ("name_off", "name_len", "type", "body"),
    "consts": ("kind", "type", "off", "end", "op_start", "op_count", "key", "vid"),
    "refs": ("off", "len", "vid"),
    "entities": ("kind", "index", "off", "end", "ref_start", "ref_end", "what"),
    "dbgrecs": ("inst", "off", "end", "ref_start", "ref_end"),
}


class Module:
    """A parsed LLVM module.  ``str(module)`` prints it (see ``printer.py``)."""

    def __init__(self, data: bytes, path=None):
        self.path = os.fspath(path) if path is not None else None
        self._src = data
        res, err = parse_tables(data)
        if err is not None:
            msg, off, line, col = err
            raise ParseError.in_source(msg, data, offset=off, line=line, col=col, path=self.path)
        tables, self._ttext = res
        self._handle = tables.pop("_handle")
        self._t = {k: _Cols(v, _COLS[k]) if k in _COLS else v for k, v in tables.items()}
        self._arr = tables
        self._vnames: dict[int, str] = {}
        self._types: list | None = None
        self._vals_: list | None = None

    # ---------------------------------------------------------------- values
    # Every view is made in one go on first use: a class per value kind, one map() per class,
    # scattered into vid order through a NumPy object array, so a walk of the whole module costs one
    # Python object per value and one operand list per instruction, all made here.
    def _views(self) -> np.ndarray:
        """The views in vid order, as a new object array for one gather.

        The module never keeps an object array: NumPy's object arrays are invisible to the cycle
        collector, so one held here hid the module <-> view cycle from it and no module whose views
        were made was ever freed (a corpus pass leaked about 8x its IR's size).  The list is visible."""
        vals = self._vals
        return np.fromiter(vals, dtype=object, count=len(vals))

    def _materialize(self) -> None:
        was = gc.isenabled()
        gc.disable()  # hundreds of thousands of new views, none in a cycle the collector could free
        try:
            self._materialize_all()
        finally:
            if was:
                # The views live as long as the module: left in the young generation, the next
                # collections would traverse all of them two or three times (0.1-0.2 s of CPU for a
                # 20 MB module).  freeze + unfreeze moves every tracked object to the oldest
                # generation at once; it is skipped when someone else has objects frozen, since
                # unfreeze would release theirs too.
                if gc.get_freeze_count() == 0:
                    gc.freeze()
                    gc.unfreeze()
                gc.enable()

    def _materialize_all(self) -> None:
        A = self._arr
        # Each table's rows are its kind's values in row order (the VALUES index column), so every
        # kind is made with one map() in row order and scattered by the table's vid column; an
        # object array does the scatter and the operand gathers in C.  Parser placeholders (kind 0)
        # are never referenced and stay None.
        arr = np.empty(len(A["values"]), dtype=object)

        def put(objs: list, vids: np.ndarray) -> None:
            arr[vids] = np.fromiter(objs, dtype=object, count=len(objs))

        def make(cls, n: int) -> list:
            return list(map(cls, repeat(self, n), range(n)))

        def make_by_kind(classes: np.ndarray, kinds: np.ndarray) -> list:
            return list(map(type.__call__, classes[kinds].tolist(), repeat(self, len(kinds)), range(len(kinds))))

        # opcode and type are stored on each instruction: a slot read instead of a property call
        # is most of a whole-module walk's cost
        insts = A["insts"]
        ni = len(insts)
        iobjs = list(map(Instruction, repeat(self, ni), range(ni), self._iopname(), self._itype()))
        put(iobjs, insts[:, 15])
        put(make(Function, len(A["funcs"])), A["funcs"][:, 0])
        put(make(Argument, len(A["args"])), A["args"][:, 4])
        G = A["globals"]
        put(make_by_kind(_GLOBAL_CLASSES, G[:, 0]), G[:, 1])
        C = A["consts"]
        put(make_by_kind(_CONST_CLASSES, C[:, 0]), C[:, 7])
        B = A["blocks"]
        blists = list(map(iobjs.__getitem__, map(slice, B[:, 3].tolist(), (B[:, 3] + B[:, 4]).tolist())))
        bobjs = list(map(Block, repeat(self, len(B)), range(len(B)), blists))
        put(bobjs, B[:, 5])
        F = A["funcs"]
        self._fblists = list(map(bobjs.__getitem__, map(slice, F[:, 6].tolist(), (F[:, 6] + F[:, 7]).tolist())))
        # Operand lists: the instructions' operands gathered back to back in instruction order, then
        # cut at one running sum: one list of Python ints instead of a start and an end column.
        nops = insts[:, 5]
        bounds = np.zeros(ni + 1, dtype=np.int64)
        np.cumsum(nops, out=bounds[1:])
        at = np.repeat(insts[:, 4] - bounds[:-1], nops) + np.arange(bounds[-1])
        flat = arr[A["operands"][at, 0]].tolist()
        cuts = bounds.tolist()
        oplists = map(flat.__getitem__, map(slice, cuts, islice(cuts, 1, None)))
        deque(map(setattr, iobjs, repeat("operands"), oplists), 0)
        self._vals_ = arr.tolist()

    @property
    def _vals(self) -> list:
        if self._vals_ is None:
            self._materialize()
        return self._vals_

    def _value(self, vid: int):
        return self._vals[vid]

    @cached_property
    def _opobjs(self) -> list:
        """The OPERANDS table as views."""
        return self._views()[self._arr["operands"][:, 0]].tolist()

    def _vals_of(self, start: int, stop: int) -> list:
        return self._opobjs[start:stop]

    @cached_property
    def _ops(self) -> list[int]:
        return self._arr["operands"][:, 0].tolist()

    # per-instruction opcode names and types, gathered through object arrays (C loops); only
    # materialization reads them, so they are not kept
    def _iopname(self) -> list[str]:
        names = _names()[0]
        return np.fromiter(names, dtype=object, count=len(names))[self._arr["insts"][:, 0]].tolist()

    def _itype(self) -> list:
        if self._types is None:
            self._build_types()
        types = self._types
        return np.fromiter(types, dtype=object, count=len(types))[self._arr["insts"][:, 2]].tolist()

    def _type(self, tid: int) -> T.Type:
        if self._types is None:
            self._build_types()
        return self._types[tid]

    def _build_types(self):
        ty = self._t["types"]
        tl = self._t["typelist"][:, 0].tolist()
        named = self._t["named"]
        out: list = []
        txt = self._ttext
        floats = T.FLOAT_KINDS
        for i in range(ty.n):
            k, a, b, c = ty.kind[i], ty.a[i], ty.b[i], ty.c[i]
            if k == 2:
                t = T.IntType(a)
            elif k == 4:
                t = T.PointerType(a, out[b] if b >= 0 else None)
            elif k == 3:
                t = T.FloatType(floats[a])
            elif k == 1:
                t = T.VoidType()
            elif k == 5:
                t = T.VectorType(out[a], b, bool(c))
            elif k == 6:
                t = T.ArrayType(out[a], b)
            elif k == 7:
                lo = ty.list_off[i]
                t = T.StructType(tuple(out[j] for j in tl[lo:lo + ty.list_len[i]]), bool(b))
            elif k == 8:
                t = T.NamedStructType(decode_name(self._src, named.name_off[a], named.name_len[a]))
            elif k == 9:
                lo = ty.list_off[i]
                t = T.FunctionType(out[a], tuple(out[j] for j in tl[lo:lo + ty.list_len[i]]), bool(b))
            elif k == 10:
                t = T.LabelType()
            elif k == 11:
                t = T.MetadataType()
            elif k == 12:
                t = T.TokenType()
            elif k == 13:
                t = T.TargetExtType(txt[ty.text_off[i]:ty.text_off[i] + ty.text_len[i]].decode())
            elif k == 14:
                t = T.X86AMXType()
            elif k == 15:
                t = T.X86MMXType()
            else:
                t = T.OpaqueType()
            out.append(t)
        self._types = out

    def _name(self, vid: int, off: int, length: int) -> str:
        n = self._vnames.get(vid)
        if n is not None:
            return n
        if off < 0:
            return ""
        n = decode_name(self._src, off, length)
        if n.isdigit() and (off == 0 or self._src[off - 1] != 0x22):
            return ""  # a slot number: unnamed, as in LLVM
        return n

    def _text(self, off: int, end: int) -> str:
        return self._src[off:end].decode("utf-8", "surrogateescape")

    # ---------------------------------------------------------------- module-level API
    @cached_property
    def functions(self) -> list[Function]:
        return self._views()[self._arr["funcs"][:, 0]].tolist()

    @cached_property
    def _globals_all(self) -> list:
        g = self._t["globals"]
        return [self._value(v) for v in g.vid]

    @cached_property
    def globals(self) -> list[GlobalVariable]:
        return [g for g in self._globals_all if isinstance(g, GlobalVariable)]

    @cached_property
    def aliases(self) -> list[GlobalAlias]:
        return [g for g in self._globals_all if isinstance(g, GlobalAlias)]

    @cached_property
    def ifuncs(self) -> list[GlobalIFunc]:
        return [g for g in self._globals_all if isinstance(g, GlobalIFunc)]

    @cached_property
    def _by_name(self) -> dict:
        d = {}
        for g in self._globals_all + self.functions:
            d.setdefault(g.name, g)
        return d

    @cached_property
    def _unnamed_globals(self) -> dict[int, int]:
        """value id -> N for each global or function defined as ``@""``: as in LLVM, it takes the slot
        one past the highest ``@N`` defined before it (in source order), and uses spell it ``@N``."""
        defs = []
        for g in self._globals_all + self.functions:
            G = self._t[g._table]
            defs.append((G.name_off[g._i], G.name_len[g._i], g._vid))
        out, nxt = {}, 0
        for off, n, vid in sorted(defs):
            raw = self._text(off, off + n)
            if not raw:
                out[vid], nxt = nxt, nxt + 1
            elif raw.isdigit() and self._text(off - 1, off) != '"':
                nxt = max(nxt, int(raw) + 1)
        return out

    def get_function(self, name: str) -> Function | None:
        g = self._by_name.get(name.lstrip("@") if name.startswith("@") else name)
        return g if isinstance(g, Function) else None

    def get_global(self, name: str):
        """A global variable, alias or ifunc by name (without ``@``), or None."""
        g = self._by_name.get(name[1:] if name.startswith("@") else name)
        return None if isinstance(g, Function) else g

    def _entity_string(self, what: int) -> str | None:
        e = self._t["entities"]
        for i in range(e.n):
            if e.kind[i] == 3 and e.what[i] == what:
                text = self._src[e.off[i]:e.end[i]]
                q = text.index(b'"')
                return unescape(text[q + 1:text.rindex(b'"')]).decode("utf-8", "surrogateescape")
        return None

    @cached_property
    def source_filename(self) -> str | None:
        return self._entity_string(8)

    @cached_property
    def data_layout(self) -> str | None:
        return self._entity_string(6)

    @cached_property
    def _program_addrspace(self) -> int:
        m = re.search(r"(?:^|-)P(\d+)", self.data_layout or "")
        return int(m.group(1)) if m else 0

    @cached_property
    def triple(self) -> str | None:
        return self._entity_string(7)

    @cached_property
    def named_types(self) -> dict[str, T.Type]:
        """Identified struct name -> body type (``OpaqueType()`` for ``type opaque``)."""
        nt = self._t["named"]
        out = {}
        for i in range(nt.n):
            name = decode_name(self._src, nt.name_off[i], nt.name_len[i])
            out[name] = self._type(nt.body[i]) if nt.body[i] >= 0 else T.OpaqueType()
        return out

    def resolve_type(self, t: T.Type) -> T.Type:
        """The body of a named struct type (followed through aliases of names); other types as they are."""
        seen = 0
        while isinstance(t, T.NamedStructType) and seen < 64:
            t = self.named_types.get(t.name, T.OpaqueType())
            seen += 1
        return t

    @cached_property
    def attribute_groups(self) -> dict[int, str]:
        """``#N`` -> the text inside ``{ ... }``."""
        e = self._t["entities"]
        out = {}
        for i in range(e.n):
            if e.kind[i] == 3 and e.what[i] == 5:
                text = self._text(e.off[i], e.end[i])
                m = re.match(r"attributes\s+#(\d+)\s*=\s*\{(.*)\}\s*$", text, re.S)
                if m:
                    out[int(m.group(1))] = m.group(2).strip()
        return out

    @cached_property
    def metadata(self) -> dict[str, str]:
        """Metadata definitions: ``!N`` or ``!name`` -> the text after ``=``."""
        e = self._t["entities"]
        out = {}
        for i in range(e.n):
            if e.kind[i] == 3 and e.what[i] == 3:
                text = self._text(e.off[i], e.end[i])
                k, _, v = text.partition("=")
                out[k.strip()] = v.strip()
        return out

    def instructions(self) -> Iterator[Instruction]:
        for f in self.functions:
            for b in f.blocks:
                yield from b.instructions

    def _opcode_names(self) -> list[str]:
        return _names()[0]

    @property
    def size(self) -> int:
        """Bytes of source text."""
        return len(self._src)

    @property
    def edited(self) -> bool:
        """Whether an edit the printer honours was made through the views: a name set, or a list of
        functions, blocks or instructions changed.  Then the source text no longer says what the
        module is, and :meth:`to_bytes` prints it again."""
        if self._vnames:
            return True
        if self._vals_ is None:
            return False   # no view was ever made, so none was edited
        F, B = self._arr["funcs"], self._arr["blocks"]
        funcs = self.__dict__.get("functions")
        if funcs is not None and [f._i for f in funcs] != list(range(len(F))):
            return True
        for k, blocks in enumerate(self._fblists):
            if [b._i for b in blocks] != list(range(F[k, 6], F[k, 6] + F[k, 7])):
                return True
            for b in blocks:
                i0 = B[b._i, 3]
                if [i._i for i in b.instructions] != list(range(i0, i0 + B[b._i, 4])):
                    return True
        return False

    def to_bytes(self) -> bytes:
        """The module as LLVM IR text: the bytes it was parsed from, or the printer's output once it
        was :attr:`edited` (comments and layout are then not kept)."""
        return str(self).encode("utf-8", "surrogateescape") if self.edited else self._src

    def __str__(self) -> str:
        from .printer import print_module

        return print_module(self)

    def __repr__(self) -> str:
        if "_t" not in self.__dict__:
            return f"<Module {self.path or '<string>'} (not parsed)>"
        return f"<Module {self.path or '<string>'}: {len(self.functions)} functions, {len(self.globals)} globals>"


# -------------------------------------------------------------------- values
class Value:
    """Anything an operand can be.  Equality is identity."""

    __slots__ = ("_m", "_i", "__weakref__")

    def __init__(self, m: Module, i: int):
        self._m = m
        self._i = i

    @property
    def module(self) -> Module:
        return self._m

    @property
    def users(self) -> list[Instruction]:
        """Instructions that use this value as an operand (phi incoming blocks and switch case values
        included)."""
        return self._m._users().get(self._vid, [])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.ref}>"


def _users(self: Module) -> dict:
    u = self.__dict__.get("_users_map")
    if u is None:
        u = {}
        IT = self._t["insts"]
        ops = self._ops
        for i in range(IT.n):
            inst = None
            s = IT.op_start[i]
            for v in set(ops[s:s + IT.ntotal[i]]):
                if inst is None:
                    inst = self._value(IT.vid[i])
                u.setdefault(v, []).append(inst)
        self.__dict__["_users_map"] = u
    return u


Module._users = _users


class Instruction(Value):
    """One instruction: a view of row ``_i`` of the instruction table."""

    # stored rather than computed: a walk reads these for every instruction
    __slots__ = {
        "opcode": "The opcode name (``add``, ``call``, ``br``...).",
        "type": "The result type (``void`` for instructions without a result).",
        "operands": "The operands (a phi's incoming values; a switch's condition, default and case "
                    "destinations): instructions, arguments, constants, globals and blocks.  The "
                    "instruction's own list, made once: the printer does not read edits of it.",
    }

    def __init__(self, m: Module, i: int, opcode: str, type: T.Type):
        self._m = m
        self._i = i
        self.opcode = opcode
        self.type = type

    @property
    def _vid(self) -> int:
        return self._m._t["insts"].vid[self._i]

    @property
    def name(self) -> str:
        IT = self._m._t["insts"]
        return self._m._name(IT.vid[self._i], IT.name_off[self._i], IT.name_len[self._i])

    @name.setter
    def name(self, value: str):
        self._m._vnames[self._vid] = value

    @property
    def ref(self) -> str:
        """How the source refers to the result (``%x`` / ``%3``), or "" for an unnamed void one."""
        n = self.name
        if n:
            return "%" + format_name(n)
        IT = self._m._t["insts"]
        off = IT.name_off[self._i]
        return "%" + self._m._text(off, off + IT.name_len[self._i]) if off >= 0 else ""

    @property
    def incoming_blocks(self) -> list[Block]:
        """phi only: the block of each incoming value, in the same order as ``operands``."""
        IT = self._m._t["insts"]
        s = IT.op_start[self._i] + IT.nops[self._i]
        return self._m._vals_of(s, IT.op_start[self._i] + IT.ntotal[self._i])

    @property
    def incoming(self) -> list[tuple]:
        return list(zip(self.operands, self.incoming_blocks, strict=True))

    @property
    def switch_cases(self) -> list[tuple]:
        """switch only: ``[(case value, destination)]`` in source order.  As in LLVM 22, the case
        values are not operands: ``operands`` is condition, default, then the case destinations."""
        if self.opcode != "switch":
            return []
        IT = self._m._t["insts"]
        s, nops = IT.op_start[self._i], IT.nops[self._i]
        return list(zip(self._m._vals_of(s + nops, s + IT.ntotal[self._i]), self._m._vals_of(s + 2, s + nops),
                        strict=True))

    @property
    def block(self) -> Block:
        m = self._m
        return m._value(m._t["blocks"].vid[m._t["insts"].block[self._i]])

    @property
    def function(self) -> Function:
        return self.block.function

    @property
    def index(self) -> int:
        """Position in the block's instruction list."""
        m = self._m
        b = m._t["insts"].block[self._i]
        lst = m._vals[m._t["blocks"].vid[b]].instructions
        k = self._i - m._t["blocks"].inst_start[b]
        return k if 0 <= k < len(lst) and lst[k] is self else lst.index(self)

    @property
    def flags(self) -> frozenset[str]:
        bits = self._m._t["insts"].flags[self._i]
        return _flagset(bits)

    @property
    def predicate(self) -> str | None:
        if self.opcode not in ("icmp", "fcmp"):
            return None
        return self._word(self._m._t["insts"].key[self._i])

    @property
    def atomic_operation(self) -> str | None:
        """atomicrmw only: ``add``, ``xchg``, ``fmax``..."""
        if self.opcode != "atomicrmw":
            return None
        return self._word(self._m._t["insts"].key[self._i])

    def _word(self, off: int) -> str:
        src = self._m._src
        end = off
        while end < len(src) and (chr(src[end]).isalnum() or src[end] in b"_"):
            end += 1
        return src[off:end].decode()

    @property
    def callee(self):
        """call/invoke/callbr: the called value (a Function, InlineAsm, or any pointer value)."""
        if self.opcode not in CALLS:
            return None
        return self._m._value(self._m._ops[self._op_end - 1])

    @property
    def _op_end(self) -> int:
        IT = self._m._t["insts"]
        return IT.op_start[self._i] + IT.ntotal[self._i]

    @property
    def function_type(self) -> T.FunctionType | None:
        """call/invoke/callbr: the callee's signature."""
        if self.opcode not in CALLS:
            return None
        return self._m._type(self._m._t["insts"].key[self._i])

    @property
    def arguments(self) -> list:
        """call/invoke/callbr: the call arguments (operand bundle inputs excluded)."""
        if self.opcode not in CALLS:
            return []
        IT = self._m._t["insts"]
        s = IT.op_start[self._i]
        return self._m._vals_of(s, s + IT.nargs[self._i])

    @property
    def allocated_type(self) -> T.Type | None:
        if self.opcode != "alloca":
            return None
        return self._m._type(self._m._t["insts"].aux[self._i])

    @property
    def source_element_type(self) -> T.Type | None:
        if self.opcode != "getelementptr":
            return None
        return self._m._type(self._m._t["insts"].aux[self._i])

    @property
    def indices(self) -> list[int]:
        """extractvalue/insertvalue: the constant indices."""
        if self.opcode not in ("extractvalue", "insertvalue"):
            return []
        IT = self._m._t["insts"]
        s, n = IT.aux[self._i], IT.key[self._i]
        return self._m._t["indices"][s:s + n, 0].tolist()

    @property
    def shuffle_mask(self) -> Constant | None:
        if self.opcode != "shufflevector":
            return None
        return self._m._value(self._m._t["insts"].aux[self._i])

    @property
    def metadata(self) -> dict[str, str]:
        """Attachments: kind (without ``!``) -> the attached node's text (``!12``, ``!{...}``)."""
        IT = self._m._t["insts"]
        md = IT.md[self._i]
        if md < 0:
            return {}
        text = self._m._src[md:IT.end[self._i]]
        return {k.decode(): v.decode() for k, v in _MD_ATTACH.findall(text)}

    @property
    def debug_records(self) -> list[str]:
        """``#dbg_value(...)``-style records placed before this instruction, as text."""
        return [self._m._text(o, e) for o, e, _, _ in self._m._dbg().get(self._i, [])]

    @property
    def is_terminator(self) -> bool:
        return self.opcode in TERMINATORS

    @property
    def text(self) -> str:
        """The instruction's source text after ``%name =``."""
        IT = self._m._t["insts"]
        return self._m._text(IT.off[self._i], IT.end[self._i])

    def __str__(self) -> str:
        from .printer import print_instruction

        return print_instruction(self)


def _dbg(self: Module) -> dict:
    d = self.__dict__.get("_dbg_map")
    if d is None:
        d = {}
        D = self._t["dbgrecs"]
        for k in range(D.n):
            d.setdefault(D.inst[k], []).append((D.off[k], D.end[k], D.ref_start[k], D.ref_end[k]))
        self.__dict__["_dbg_map"] = d
    return d


Module._dbg = _dbg

_FLAGSETS: dict[int, frozenset] = {}


def _flagset(bits: int) -> frozenset:
    fs = _FLAGSETS.get(bits)
    if fs is None:
        names = _names()[1]
        fs = frozenset(n for k, n in enumerate(names) if bits >> k & 1)
        _FLAGSETS[bits] = fs
    return fs


class Argument(Value):
    __slots__ = ()

    @property
    def _vid(self) -> int:
        return self._m._t["args"].vid[self._i]

    @property
    def name(self) -> str:
        A = self._m._t["args"]
        return self._m._name(A.vid[self._i], A.name_off[self._i], A.name_len[self._i])

    @name.setter
    def name(self, value: str):
        self._m._vnames[self._vid] = value

    @property
    def type(self) -> T.Type:
        return self._m._type(self._m._t["args"].type[self._i])

    @property
    def index(self) -> int:
        return self._m._t["args"].index[self._i]

    @property
    def function(self) -> Function:
        m = self._m
        return m._value(m._t["funcs"].vid[m._t["args"].func[self._i]])

    @property
    def ref(self) -> str:
        return "%" + format_name(self.name) if self.name else f"%{self.index}"


class Block(Value):
    __slots__ = {"instructions": "The block's instructions, in order (a list the printer honours edits of)."}

    def __init__(self, m: Module, i: int, instructions: list):
        self._m = m
        self._i = i
        self.instructions = instructions

    @property
    def _vid(self) -> int:
        return self._m._t["blocks"].vid[self._i]

    @property
    def name(self) -> str:
        B = self._m._t["blocks"]
        return self._m._name(B.vid[self._i], B.name_off[self._i], B.name_len[self._i])

    @name.setter
    def name(self, value: str):
        self._m._vnames[self._vid] = value

    @property
    def type(self) -> T.Type:
        return T.LabelType()

    @property
    def ref(self) -> str:
        n = self.name
        return "%" + format_name(n) if n else f"%<{self.index}>"

    @property
    def function(self) -> Function:
        m = self._m
        return m._value(m._t["funcs"].vid[m._t["blocks"].func[self._i]])

    @property
    def index(self) -> int:
        m = self._m
        f = m._t["blocks"].func[self._i]
        lst = m._fblists[f]
        k = self._i - m._t["funcs"].block_start[f]
        return k if 0 <= k < len(lst) and lst[k] is self else lst.index(self)

    @property
    def terminator(self) -> Instruction | None:
        insts = self.instructions
        return insts[-1] if insts and insts[-1].is_terminator else None

    @property
    def successors(self) -> list[Block]:
        """As LLVM's successors(): br cond gives (true, false); duplicates are kept (switch)."""
        t = self.terminator
        if t is None:
            return []
        blocks = [o for o in t.operands if isinstance(o, Block)]
        if t.opcode == "br" and len(blocks) == 2:
            blocks.reverse()
        return blocks

    @property
    def predecessors(self) -> list[Block]:
        """Blocks whose terminator branches here, each once, in function order.

        Computed for the whole function at once and cached; call ``Function.invalidate_cfg()``
        after editing terminators or the block list."""
        f = self.function
        cache = self._m.__dict__.setdefault("_preds", {})
        preds = cache.get(f._i)
        if preds is None:
            preds = {}
            for b in f.blocks:
                for s in b.successors:
                    lst = preds.setdefault(s, [])
                    if not lst or lst[-1] is not b:
                        lst.append(b)
            cache[f._i] = preds
        return list(preds.get(self, ()))


class _Global(Value):
    __slots__ = ()
    _table = "globals"

    @property
    def _vid(self) -> int:
        return self._m._t[self._table].vid[self._i]

    @property
    def name(self) -> str:
        G = self._m._t[self._table]
        return self._m._name(G.vid[self._i], G.name_off[self._i], G.name_len[self._i])

    @name.setter
    def name(self, value: str):
        self._m._vnames[self._vid] = value
        self._m.__dict__.pop("_by_name", None)

    @property
    def ref(self) -> str:
        n = self.name
        if n:
            return "@" + format_name(n)
        G = self._m._t[self._table]
        raw = self._m._text(G.name_off[self._i], G.name_off[self._i] + G.name_len[self._i])
        # @"" is an unnamed global: LLVM numbers it like one and the source refers to it as @N
        return "@" + raw if raw else f"@{self._m._unnamed_globals[self._vid]}"

    @property
    def type(self) -> T.Type:
        return self._m._type(self._m._t["values"].type[self._vid])

    @property
    def _header_words(self) -> list[bytes]:
        G = self._m._t[self._table]
        text = self._m._src[G.off[self._i]:G.end[self._i]]
        return _HDR_TOKEN.findall(text)

    @property
    def linkage(self) -> str:
        for w in self._header_words[1:]:
            if w.decode("utf-8", "replace") in LINKAGES:
                return w.decode()
        return "external"

    @property
    def text(self) -> str:
        G = self._m._t[self._table]
        return self._m._text(G.off[self._i], G.end[self._i])

    def __str__(self) -> str:
        from .printer import print_global

        return print_global(self)


class GlobalVariable(_Global):
    __slots__ = ()

    @property
    def metadata(self) -> dict[str, str]:
        """Attachments after the initializer (``!dbg !3``...): kind -> node text."""
        G = self._m._t["globals"]
        text = self._m._src[G.off[self._i]:G.end[self._i]]
        return {k.decode(): v.decode() for k, v in _MD_ATTACH.findall(text)}

    @property
    def value_type(self) -> T.Type:
        return self._m._type(self._m._t["globals"].value_type[self._i])

    @property
    def initializer(self):
        v = self._m._t["globals"].init[self._i]
        return self._m._value(v) if v >= 0 else None

    @property
    def is_declaration(self) -> bool:
        return self.initializer is None

    @property
    def is_constant(self) -> bool:
        return bool(self._m._t["globals"].is_constant[self._i])

    @property
    def addrspace(self) -> int:
        return self._m._t["globals"].addrspace[self._i]


class GlobalAlias(_Global):
    __slots__ = ()

    @property
    def value_type(self) -> T.Type:
        return self._m._type(self._m._t["globals"].value_type[self._i])

    @property
    def aliasee(self):
        return self._m._value(self._m._t["globals"].init[self._i])


class GlobalIFunc(_Global):
    __slots__ = ()

    @property
    def value_type(self) -> T.Type:
        return self._m._type(self._m._t["globals"].value_type[self._i])

    @property
    def resolver(self):
        return self._m._value(self._m._t["globals"].init[self._i])


class Function(_Global):
    __slots__ = ()
    _table = "funcs"

    @property
    def is_declaration(self) -> bool:
        return bool(self._m._t["funcs"].is_decl[self._i])

    @property
    def type(self) -> T.FunctionType:
        """The function's signature (its value type; the value itself is a ``ptr``)."""
        return self._m._type(self._m._t["funcs"].type[self._i])

    @property
    def return_type(self) -> T.Type:
        return self.type.return_type

    @property
    def arguments(self) -> list[Argument]:
        F = self._m._t["funcs"]
        A = self._m._t["args"]
        s = F.arg_start[self._i]
        return [self._m._value(v) for v in A.vid[s:s + F.arg_count[self._i]]]

    @property
    def blocks(self) -> list[Block]:
        return self._m._fblists[self._i]

    def invalidate_cfg(self) -> None:
        """Forget cached predecessors after an edit of this function's terminators or blocks."""
        self._m.__dict__.get("_preds", {}).pop(self._i, None)

    @property
    def entry_block(self) -> Block | None:
        b = self.blocks
        return b[0] if b else None

    def instructions(self) -> Iterator[Instruction]:
        for b in self.blocks:
            yield from b.instructions

    def _header_value(self, column: str):
        v = getattr(self._m._t["funcs"], column)[self._i]
        return self._m._value(v) if v >= 0 else None

    @property
    def personality(self):
        """The ``personality`` function (or constant) of the header, or None."""
        return self._header_value("personality")

    @property
    def prefix_data(self) -> Constant | None:
        """The ``prefix`` constant of the header, or None (LLVM's ``getPrefixData``)."""
        return self._header_value("prefix")

    @property
    def prologue_data(self) -> Constant | None:
        """The ``prologue`` constant of the header, or None (LLVM's ``getPrologueData``)."""
        return self._header_value("prologue")

    @property
    def addrspace(self) -> int:
        """The address space of the function: ``addrspace(N)`` of its header, else the program
        address space of the data layout (``P<N>``), else 0."""
        a = self._m._t["funcs"].addrspace[self._i]
        return a if a >= 0 else self._m._program_addrspace

    @property
    def is_implicit(self) -> bool:
        """An intrinsic that LLVM 20+ declares on its own because a call names it."""
        return self._m._t["funcs"].off[self._i] < 0

    @property
    def header(self) -> str:
        """``define ... @f(...) attrs`` as written (without the body)."""
        F = self._m._t["funcs"]
        if F.off[self._i] < 0:
            return f"declare {self.type.return_type} {self.ref}({', '.join(map(str, self.type.params))})"
        return self._m._text(F.off[self._i], F.hdr_end[self._i])

    def _split_header(self) -> tuple[list[bytes], list[bytes]]:
        """Header tokens before the name and after the parameter list."""
        F = self._m._t["funcs"]
        if F.off[self._i] < 0:
            return [], []
        text = self._m._src[F.off[self._i]:F.hdr_end[self._i]]
        toks = _HDR_TOKEN.findall(text)
        depth, name_at, close_at = 0, None, None
        for k, t in enumerate(toks):
            if name_at is None:
                if t.startswith(b"@") and k + 1 < len(toks) and toks[k + 1] == b"(":
                    name_at = k
                continue
            if t == b"(":
                depth += 1
            elif t == b")":
                depth -= 1
                if depth == 0:
                    close_at = k
                    break
        if name_at is None or close_at is None:
            return toks, []
        return toks[:name_at], toks[close_at + 1:]

    @property
    def linkage(self) -> str:
        for w in self._split_header()[0][1:]:
            s = w.decode("utf-8", "replace")
            if s in LINKAGES:
                return s
        return "external"

    @property
    def calling_convention(self) -> str:
        before = self._split_header()[0]
        for k, w in enumerate(before[1:], 1):
            s = w.decode("utf-8", "replace")
            if s == "cc" and k + 1 < len(before):
                return f"cc {before[k + 1].decode()}"
            if _CC_WORDS.match(s) and s not in ("unnamed_addr",):
                return s
        return "ccc"

    @property
    def attributes(self) -> list[str]:
        """Function attributes after the parameter list: words, ``"k"="v"`` and ``#N`` groups."""
        after = self._split_header()[1]
        out, k = [], 0
        stop = {b"section", b"comdat", b"gc", b"prefix", b"prologue", b"personality", b"partition"}
        while k < len(after):
            w = after[k]
            if w in stop or w.startswith(b"!"):
                break
            if w == b"(" and out:
                depth, j = 0, k
                while j < len(after):
                    depth += after[j] == b"("
                    depth -= after[j] == b")"
                    j += 1
                    if depth == 0:
                        break
                out[-1] += b"".join(after[k:j]).decode("utf-8", "replace").replace(",", ", ")
                k = j
                continue
            if w in (b"align",) and k + 1 < len(after):
                out.append(f"align {after[k + 1].decode()}")
                k += 2
                continue
            out.append(w.decode("utf-8", "replace"))
            k += 1
        return out

    @property
    def metadata(self) -> dict[str, str]:
        F = self._m._t["funcs"]
        if F.off[self._i] < 0:
            return {}
        return {k.decode(): v.decode() for k, v in _MD_ATTACH.findall(self._m._src[F.off[self._i]:F.hdr_end[self._i]])}

    def __str__(self) -> str:
        from .printer import print_function

        return print_function(self)


class Constant(Value):
    """A constant operand or initializer: a value, compared by identity like every IR value."""

    __slots__ = ()

    @property
    def _vid(self) -> int:
        return self._m._t["consts"].vid[self._i]

    @property
    def kind(self) -> ConstantKind:
        return ConstantKind(self._m._t["consts"].kind[self._i])

    @property
    def type(self) -> T.Type:
        return self._m._type(self._m._t["consts"].type[self._i])

    @property
    def text(self) -> str:
        C = self._m._t["consts"]
        off, end = C.off[self._i], C.end[self._i]
        return self._m._text(off, end) if end > off else "1"  # an alloca's implied `i32 1`

    @property
    def ref(self) -> str:
        return self.text

    @property
    def operands(self) -> list:
        C = self._m._t["consts"]
        s = C.op_start[self._i]
        return self._m._vals_of(s, s + C.op_count[self._i])

    @property
    def opcode(self) -> str | None:
        """Constant expressions: their opcode (``getelementptr``, ``bitcast``...)."""
        if self.kind != ConstantKind.EXPR:
            return None
        return re.match(r"[a-z_]+", self.text).group(0)

    @property
    def value(self):
        """int for INT (``true`` is 1), float for FP, bytes for STRING, None otherwise."""
        k = self.kind
        t = self.text
        if k == ConstantKind.INT:
            if t == "true":
                return 1
            if t == "false":
                return 0
            if t[:3] in ("u0x", "s0x"):
                v = int(t[3:], 16)
                if t[0] == "s" and isinstance(self.type, T.IntType) and v >> (self.type.width - 1) & 1:
                    v -= 1 << self.type.width
                return v
            return int(t)
        if k == ConstantKind.FP:
            return _parse_fp(t)
        if k == ConstantKind.STRING:
            return unescape(self._m._src[self._m._t["consts"].off[self._i] + 2:self._m._t["consts"].end[self._i] - 1])
        return None

    def __str__(self) -> str:
        return f"{self.type} {self.text}"


def _parse_fp(t: str):
    neg = t.startswith("-")
    s = t.lstrip("+-")
    if not s.startswith("0x"):
        return float(t)
    body = s[2:]
    if body[:1] in ("K", "L", "M", "H", "R"):
        kind, digits = body[0], body[1:]
        bits = int(digits, 16)
        if kind == "H":
            v = struct.unpack("<e", bits.to_bytes(2, "little"))[0]
        elif kind == "R":
            v = struct.unpack("<f", (bits << 16).to_bytes(4, "little"))[0]
        elif kind == "K":  # x86 80-bit: sign+exp 15 bits, explicit integer bit, 63 fraction bits
            sign, exp, mant = bits >> 79 & 1, bits >> 64 & 0x7FFF, bits & ((1 << 64) - 1)
            v = float("nan") if exp == 0x7FFF and mant << 1 else (
                float("inf") if exp == 0x7FFF else mant * 2.0 ** (exp - 16383 - 63) if exp or mant else 0.0)
            v = -v if sign else v
        else:  # fp128 / ppc_fp128: the nearest double is good enough for a Python float
            if kind == "L":  # LLVM writes the low 64 bits first
                bits = int(digits[16:32], 16) << 64 | int(digits[:16], 16)
                sign, exp, mant = bits >> 127 & 1, bits >> 112 & 0x7FFF, bits & ((1 << 112) - 1)
                v = (1 + mant / 2.0 ** 112) * 2.0 ** (exp - 16383) if 0 < exp < 0x7FFF else (
                    0.0 if exp == 0 else float("inf"))
                v = -v if sign else v
            else:
                v = struct.unpack("<d", (bits >> 64).to_bytes(8, "little"))[0]
    else:
        v = struct.unpack("<d", int(body, 16).to_bytes(8, "little"))[0]
    return -v if neg else v


class InlineAsm(Value):
    """``asm [sideeffect] "code", "constraints"`` as a callee."""

    __slots__ = ()

    @property
    def _vid(self) -> int:
        return self._m._t["consts"].vid[self._i]

    @property
    def type(self) -> T.Type:
        return self._m._type(self._m._t["consts"].type[self._i])

    @property
    def text(self) -> str:
        C = self._m._t["consts"]
        return self._m._text(C.off[self._i], C.end[self._i])

    ref = text

    @property
    def asm(self) -> str:
        return re.findall(r'"((?:[^"\\]|\\.)*)"', self.text)[0]

    @property
    def constraints(self) -> str:
        return re.findall(r'"((?:[^"\\]|\\.)*)"', self.text)[1]

    @property
    def side_effect(self) -> bool:
        return " sideeffect" in self.text.split('"')[0]


class MetadataValue(Value):
    """A ``metadata ...`` operand (``metadata !12``, ``metadata i32 %x``); ``operands`` are wrapped values."""

    __slots__ = ()

    @property
    def _vid(self) -> int:
        return self._m._t["consts"].vid[self._i]

    @property
    def type(self) -> T.Type:
        return T.MetadataType()

    @property
    def text(self) -> str:
        C = self._m._t["consts"]
        return self._m._text(C.off[self._i], C.end[self._i])

    ref = text

    @property
    def operands(self) -> list:
        C = self._m._t["consts"]
        s = C.op_start[self._i]
        return self._m._vals_of(s, s + C.op_count[self._i])


# row kind -> view class, for the tables that hold more than one (globals: 1 var, 2 alias, 3 ifunc)
_GLOBAL_CLASSES = np.array([GlobalVariable, GlobalVariable, GlobalAlias, GlobalIFunc], dtype=object)
_CONST_CLASSES = np.array([Constant] * _C_METADATA + [MetadataValue, InlineAsm], dtype=object)
