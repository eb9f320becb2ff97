"""Per-function features: LLVM's FunctionPropertiesAnalysis, histograms, one flat vector.

:func:`function_properties` reproduces ``opt-22 -passes='print<func-properties>'
-enable-detailed-function-properties`` value for value (LLVM 22.1,
``llvm/lib/Analysis/FunctionPropertiesAnalysis.cpp``), including its quirks, which a model
trained on LLVM's numbers must see the same way:

* only blocks reachable from the entry are counted, but ``pred_size`` counts edges from
  unreachable blocks too, and both successor and predecessor counts keep duplicates;
* ``Big/Medium/SmallBasicBlocks`` compare the *running* instruction total of the function
  (not the block's own size) with 500 and 15;
* ``FloatingPointInstructionCount`` counts instructions of type ``float`` only (``isFloatTy``);
  ``CallReturnsFloatCount`` counts every floating-point type;
* operands are classified in the order GlobalValue, ConstantInt, ConstantFP, Constant,
  Instruction, BasicBlock, InlineAsm, Argument, else Unknown (metadata); a function or
  global is a GlobalValue, ``i32 zeroinitializer`` is a ConstantInt, a vector splat is a
  Constant; the operands are LLVM's ``User::operands()`` (the implicit ``i32 1`` of
  ``alloca``, not the incoming blocks of ``phi``, not the mask of ``shufflevector``);
* debug intrinsics (turned into debug records by LLVM 22's parser) and ``llvm.pseudoprobe``
  are not instructions here;
* ``getCalledFunction`` is null when the call's function type differs from the callee's, so
  such a call is neither to a defined function nor an intrinsic, though it is a direct call;
  ``DirectCallCount``/``IndirectCallCount`` and the ``CallReturns*`` counts see ``call`` only,
  while ``DirectCallsToDefinedFunctions`` sees ``invoke`` and ``callbr`` too;
* ``Uses`` is one for a function with non-local linkage plus its number of uses in the
  whole module, a uniqued constant (such as one ``ptrtoint`` of the function used many
  times) being one use.

What LLVM's *parser* folds (``getelementptr`` with zero indices to its base, ``ptrtoint null``
to ``0``…) changes the class of an operand; :func:`folding_hazards` counts operands whose
class depends on that folding, which :func:`function_properties` resolves with
:func:`fold_constant_expr` for the cases LLVM is known to fold.
"""

from __future__ import annotations

import functools
import re
from collections import Counter

from irtools.ir import llvm as lt
from irtools.ir.llvm import ConstantKind as K

from .cfg import CFG
from .dominators import DominatorTree
from .llvm_reference import FUNC_PROPERTY_NAMES
from .loops import LoopInfo

__all__ = [
    "CAST_OPCODES",
    "FEATURE_VECTOR_KEYS",
    "FUNC_PROPERTY_NAMES",
    "LLVM_OPCODES",
    "TYPE_CATEGORIES",
    "feature_vector",
    "function_properties",
    "module_properties",
    "opcode_histogram",
    "type_histogram",
]


def _llvm_opcodes() -> tuple[str, ...]:
    """Every instruction opcode of LLVM 22 (llvm/IR/Instruction.def), in its order: read from the
    table of csrc/llfeatures.c (its ``ir.op.*`` columns), so that the list is written once."""
    from irtools._native import load

    lib, ffi = load("llfeatures")
    cols = (ffi.string(lib.llf_column_name(i)).decode() for i in range(lib.llf_ncolumns()))
    return tuple(c[len("ir.op."):] for c in cols if c.startswith("ir.op."))


LLVM_OPCODES: tuple[str, ...] = _llvm_opcodes()

CAST_OPCODES = frozenset({
    "trunc", "zext", "sext", "fptoui", "fptosi", "uitofp", "sitofp", "fptrunc", "fpext", "ptrtoint",
    "ptrtoaddr", "inttoptr", "bitcast", "addrspacecast",
})

CALL_OPCODES = frozenset({"call", "invoke", "callbr"})

DEBUG_INTRINSICS = frozenset({"llvm.dbg.declare", "llvm.dbg.value", "llvm.dbg.assign", "llvm.dbg.label",
                              "llvm.dbg.addr", "llvm.pseudoprobe"})

# Target-specific intrinsic families.  LLVM's reader rewrites many of their old forms into
# other intrinsics or plain instructions (AutoUpgrade.cpp), which irtools does not replay.
TARGET_INTRINSIC_PREFIXES = tuple(f"llvm.{t}." for t in (
    "x86", "arm", "aarch64", "nvvm", "amdgcn", "r600", "ppc", "mips", "hexagon", "wasm", "riscv", "s390",
    "systemz", "loongarch", "ve", "spv", "bpf", "xcore", "dx", "nvptx"))

# The categories type_histogram counts result types in; fixed, so feature keys are stable.
TYPE_CATEGORIES: tuple[str, ...] = (
    "void", "i1", "i8", "i16", "i32", "i64", "i128", "int_other", "half", "bfloat", "float", "double",
    "fp_other", "ptr", "vec_int", "vec_fp", "vec_ptr", "struct", "array", "token", "other",
)


_LOCAL_LINKAGES = frozenset({"internal", "private"})


# ---------------------------------------------------------------- types and operands

@functools.lru_cache(maxsize=4096)
def _erase(t):
    """A type with pointee types dropped: LLVM 22 reads ``i32*`` as ``ptr``."""
    if isinstance(t, lt.PointerType):
        return lt.PointerType(t.addrspace) if t.pointee is not None else t
    if isinstance(t, lt.FunctionType):
        return lt.FunctionType(_erase(t.return_type), tuple(_erase(p) for p in t.params), t.vararg)
    if isinstance(t, lt.VectorType):
        return lt.VectorType(_erase(t.element), t.count, t.scalable)
    if isinstance(t, lt.ArrayType):
        return lt.ArrayType(_erase(t.element), t.count)
    if isinstance(t, lt.StructType):
        return lt.StructType(tuple(_erase(e) for e in t.elements), t.packed)
    return t


def _resolve(t, module):
    """A named type's body when the name stands for a non-struct type (``%T = type i8``)."""
    if isinstance(t, lt.NamedStructType):
        return module.resolve_type(t)
    if isinstance(t, lt.VectorType) and isinstance(t.element, lt.NamedStructType):
        return lt.VectorType(module.resolve_type(t.element), t.count, t.scalable)
    return t


def target_intrinsic_calls(fn) -> int:
    """Calls LLVM's reader may rewrite (AutoUpgrade): to target-specific intrinsics
    (``llvm.x86.*``, ``llvm.aarch64.*``...), and to intrinsics declared to return an identified
    struct type (``%0 @llvm.sadd.with.overflow.i64``), which become a literal-struct call plus
    extractvalue/insertvalue instructions."""
    n = 0
    for inst in fn.instructions():
        if inst.opcode in CALL_OPCODES:
            callee = inst.callee
            if isinstance(callee, lt.Function) and callee.name.startswith("llvm.") and (
                    callee.name.startswith(TARGET_INTRINSIC_PREFIXES)
                    or isinstance(callee.type.return_type, lt.NamedStructType)):
                n += 1
    return n


def _is_float_ty(t) -> bool:
    """LLVM's ``isFloatTy``: the 32-bit ``float`` only."""
    return isinstance(t, lt.FloatType) and t.kind == "float"


def called_function(inst):
    """LLVM's ``CallBase::getCalledFunction``: the callee when it is a Function of the call's type."""
    callee = inst.callee
    if isinstance(callee, lt.Constant) and callee.kind == K.EXPR:
        callee = fold_constant_expr(callee).value  # old IR calls through a no-op bitcast
    if not isinstance(callee, lt.Function):
        return None
    fty = inst.function_type
    if fty is not None and _erase(fty) != _erase(callee.type):
        return None
    return callee


def is_debug_or_pseudo(inst) -> bool:
    """Calls LLVM 22 does not treat as instructions here (debug intrinsics, pseudo probes)."""
    if inst.opcode != "call":
        return False
    callee = inst.callee
    return isinstance(callee, lt.Function) and callee.name in DEBUG_INTRINSICS


def is_intrinsic_call(inst) -> bool:
    """``isa<IntrinsicInst>``: a ``call`` (not invoke) whose called function is named ``llvm.*``."""
    if inst.opcode != "call":
        return False
    f = called_function(inst)
    return f is not None and f.name.startswith("llvm.")


def _strip_pointer_casts(v, limit: int = 64):
    """LLVM's ``stripPointerCasts`` over instructions: bitcast, addrspacecast, all-zero GEPs."""
    for _ in range(limit):
        if isinstance(v, lt.Instruction | lt.Constant):
            op = v.opcode
            if op in ("bitcast", "addrspacecast") or (op == "getelementptr" and all(
                    _is_zero(i) for i in v.operands[1:])):
                v = v.operands[0]
                continue
        return v
    return v


def counted_operands(inst):
    """The operands LLVM 22 sees for ``inst`` after its reader's upgrades, or None if it drops it.

    * debug intrinsics and pseudo probes are not instructions;
    * ``llvm.lifetime.start/end(i64 size, ptr p)`` of old IR loses its size, and is deleted
      when ``p`` (casts stripped) is not an ``alloca``.
    """
    if is_debug_or_pseudo(inst):
        return None
    ops = inst.operands
    op = inst.opcode
    if op == "call" and isinstance(ops[-1], lt.Function) and ops[-1].name.startswith("llvm."):
        name = ops[-1].name
        nargs = len(inst.arguments)
        if name.startswith(_LIFETIME) and nargs == 2:
            ptr = _strip_pointer_casts(ops[1])
            if not (isinstance(ptr, lt.Instruction) and ptr.opcode == "alloca"):
                return None
            return ops[1:]
        drop = _DROPPED_ALIGN.get(name.split(".")[2] if name.count(".") >= 2 else "")
        if drop is not None and name.startswith("llvm.masked.") and nargs == drop[1]:
            return ops[:drop[0]] + ops[drop[0] + 1:]
        if name.startswith(("llvm.memcpy.", "llvm.memmove.", "llvm.memset.")) and nargs == 5:
            return ops[:3] + ops[4:]  # the old i32 alignment argument became an attribute
        if name.startswith(("llvm.var.annotation", "llvm.ptr.annotation.")) and nargs == 4:
            return ops[:4] + [_NULLPTR] + ops[4:]  # the annotation-attributes argument, null when upgraded
        if name.startswith(("llvm.ctlz.", "llvm.cttz.")) and nargs == 1:
            return ops[:1] + [_FALSE] + ops[1:]  # the is_zero_poison flag, false when upgraded
        if name.startswith("llvm.objectsize.") and nargs in (2, 3):
            return ops[:nargs] + [_FALSE] * (4 - nargs) + ops[nargs:]
    return ops


def counted_arguments(inst, ops) -> list:
    """Call arguments after upgrades (see :func:`counted_operands`)."""
    args = inst.arguments
    if len(ops) - 1 != len(args) and inst.opcode == "call":
        bundles = len(inst.operands) - 1 - len(args)
        return ops[:len(ops) - 1 - bundles]
    return args


class _UpgradeConstant:
    """A constant LLVM's upgrader adds to a call (``i1 false`` flags, a ``ptr null``)."""

    def __init__(self):
        self.cls = "ConstantInt"
        self.type = lt.IntType(1)


_FALSE = _UpgradeConstant()
_NULLPTR = _UpgradeConstant()
_NULLPTR.cls = "Constant"
_NULLPTR.type = lt.PointerType()

# llvm.masked.<name>: (index of the old i32 alignment argument, argument count with it)
_DROPPED_ALIGN = {"load": (1, 4), "store": (2, 4), "gather": (1, 4), "scatter": (2, 4)}


_LIFETIME = ("llvm.lifetime.start", "llvm.lifetime.end")

_ZERO_TEXT = frozenset({"0", "false", "zeroinitializer", "null", "-0"})


class _Fold:
    """The result of LLVM's folding of a constant expression, as far as operand class goes.

    ``value`` is a global when the expression folds to it; ``cls`` the operand class otherwise;
    ``hazard`` is set when irtools cannot tell what LLVM's folder makes of it.
    """

    __slots__ = ("cls", "value", "hazard")

    def __init__(self, cls: str, value=None, hazard: bool = False):
        self.cls, self.value, self.hazard = cls, value, hazard


def _scalar_const_class(t) -> str:
    if isinstance(t, lt.IntType):
        return "ConstantInt"
    if isinstance(t, lt.FloatType):
        return "ConstantFP"
    return "Constant"


def _is_zero(c) -> bool:
    return isinstance(c, lt.Constant) and c.kind in (K.INT, K.ZERO, K.NULL) and c.text.strip() in _ZERO_TEXT


def fold_constant_expr(c) -> _Fold:
    """How LLVM 22's parser-time folder classifies a constant expression (see module docstring)."""
    op = c.opcode
    try:
        ops = c.operands
    except AssertionError:  # a reference the model could not resolve
        return _Fold("Constant", hazard=True)
    folded = [_fold_operand(o) for o in ops]
    if any(f.hazard for f in folded):
        return _Fold("Constant", hazard=True)
    data = _pure_data(c)
    if data is not None:
        # no global inside: LLVM folds it to a plain constant of the result type, except
        # where pointers take part (``ptrtoint (gep (i8, ptr null, i64 4))`` stays an expression)
        ty = _resolve(c.type, c.module)
        if isinstance(ty, lt.PointerType):
            return _Fold("Constant")
        return _Fold(_scalar_const_class(ty), hazard=not data)
    simple = [f.cls in ("ConstantInt", "ConstantFP") or _is_zero(o) for o, f in zip(ops, folded, strict=True)]
    if op in CAST_OPCODES:
        if not ops:
            return _Fold("Constant", hazard=True)
        src, f = ops[0], folded[0]
        if op == "bitcast" and _erase(_value_type(src)) == _erase(c.type):
            return f
        if op != "addrspacecast" and _is_zero(src):
            return _Fold(_scalar_const_class(_resolve(c.type, c.module)))
        if simple[0]:
            return _Fold(_scalar_const_class(c.type), hazard=not isinstance(c.type, lt.IntType | lt.FloatType))
        if isinstance(src, lt.Constant) and src.kind in (K.UNDEF, K.POISON, K.EXPR):
            # casts of casts and of undef fold in ways not modelled here
            return _Fold("Constant", hazard=src.kind != K.EXPR or src.opcode in CAST_OPCODES)
        return _Fold("Constant")
    if op == "getelementptr":
        if len(ops) < 1 or isinstance(c.type, lt.VectorType):
            return _Fold("Constant", hazard=True)
        idx = ops[1:]
        if any(isinstance(i, lt.Constant) and i.kind in (K.UNDEF, K.POISON) for i in idx):
            return _Fold("Constant", hazard=True)
        if all(_is_zero(i) for i in idx):
            return folded[0] if folded[0].cls != "Constant" or _is_zero(ops[0]) else _Fold("Constant", hazard=True)
        return _Fold("Constant")
    if op in ("add", "sub", "xor"):
        if any(isinstance(o, lt.Constant) and o.kind in (K.UNDEF, K.POISON) for o in ops):
            return _Fold("Constant", hazard=True)
        if all(simple):
            return _Fold(_scalar_const_class(_resolve(c.type, c.module)))
        if len(ops) == 2 and _is_zero(ops[1]):
            return folded[0]
        if len(ops) == 2 and op == "add" and _is_zero(ops[0]):
            return folded[1]
        if len(ops) == 2 and op in ("sub", "xor") and ops[0].ref == ops[1].ref:
            return _Fold(_scalar_const_class(_resolve(c.type, c.module)))
        return _Fold("Constant")
    # extractelement, insertelement, shufflevector and anything newer: not modelled
    return _Fold("Constant", hazard=True)


_GLOBAL_TYPES = (lt.Function, lt.GlobalVariable, lt.GlobalAlias, lt.GlobalIFunc)


def _pure_data(c) -> bool | None:
    """None if a global, blockaddress or other symbol is inside ``c``; else whether LLVM is
    known to fold it completely: no pointer-typed constant takes part, and no vector feeds a
    scalar result (LLVM folds some vector-to-scalar bitcasts and not others)."""
    stack, no_pointers = [c], True
    scalar_result = not isinstance(c.type, lt.VectorType)
    while stack:
        x = stack.pop()
        if isinstance(x, _GLOBAL_TYPES):
            return None
        if not isinstance(x, lt.Constant):
            return None
        if x.kind in (K.BLOCKADDRESS, K.OTHER, K.NONE):
            return None
        if x is not c and (isinstance(x.type, lt.PointerType)
                           or (scalar_result and isinstance(x.type, lt.VectorType))):
            no_pointers = False
        if x.kind in (K.EXPR, K.AGGREGATE):
            try:
                stack.extend(x.operands)
            except AssertionError:
                return None
    return no_pointers


def _value_type(v):
    """The type of ``v`` as an operand: a global is a pointer in its address space."""
    if isinstance(v, _GLOBAL_TYPES):
        return lt.PointerType(getattr(v, "addrspace", 0) or 0)
    if isinstance(v, _UpgradeConstant):
        return v.type
    return _resolve(v.type, v.module)


def _fold_operand(v) -> _Fold:
    if isinstance(v, _UpgradeConstant):
        return _Fold(v.cls)
    if isinstance(v, _GLOBAL_TYPES):
        return _Fold("GlobalValue", v)
    if isinstance(v, lt.Instruction):
        return _Fold("Instruction")
    if isinstance(v, lt.Argument):
        return _Fold("Argument")
    if isinstance(v, lt.Block):
        return _Fold("BasicBlock")
    if isinstance(v, lt.InlineAsm):
        return _Fold("InlineAsm")
    if isinstance(v, lt.Constant):
        k = v.kind
        if k == K.INT:
            return _Fold(_scalar_const_class(_resolve(v.type, v.module)))
        if k == K.FP:
            return _Fold("ConstantFP")
        if k == K.ZERO:
            return _Fold(_scalar_const_class(_resolve(v.type, v.module)))
        if k == K.EXPR:
            return fold_constant_expr(v)
        return _Fold("Constant")
    return _Fold("Unknown")


def operand_class(v) -> str:
    """The first of LLVM's ``isa<>`` tests in FunctionPropertiesAnalysis that ``v`` passes."""
    return _fold_operand(v).cls


def folding_hazards(fn) -> int:
    """Operands of counted instructions whose class depends on folding irtools does not model."""
    cfg = CFG.from_function(fn)
    n = 0
    for b, block in enumerate(fn.blocks):
        if not cfg.reachable[b]:
            continue
        for inst in block.instructions:
            for o in counted_operands(inst) or ():
                if isinstance(o, lt.Constant) and o.kind == K.EXPR and fold_constant_expr(o).hazard:
                    n += 1
    return n


# ---------------------------------------------------------------- Uses (module-wide)

def function_use_counts(module) -> dict[str, int]:
    """LLVM's ``F.getNumUses()`` for every function of a module, by name.

    Instruction operands count once each; constants are uniqued in LLVM, so a constant
    (``ptrtoint (ptr @f to i64)``, an initializer's ``{ i32, ptr @f }``) counts once however
    often it appears; aliases, ifuncs, initializers and personality/prefix/prologue functions
    are users too.  ``blockaddress(@f, %bb)`` does not use ``@f`` in LLVM 22.
    """
    counts: Counter[str] = Counter()
    seen_consts: set[str] = set()

    def key(c) -> str:
        return f"{c.type}|{' '.join(c.text.split())}"

    def visit_constant(c) -> None:
        # a constant that folds to a global is that global, used directly by its user
        k = key(c)
        if k in seen_consts:
            return
        seen_consts.add(k)
        if c.kind == K.BLOCKADDRESS:
            return
        try:
            ops = c.operands
        except AssertionError:
            return
        for o in ops:
            use(o)

    def use(v) -> None:
        if isinstance(v, lt.Constant) and v.kind == K.EXPR:
            f = fold_constant_expr(v)
            if f.value is not None:
                use(f.value)
                return
        if isinstance(v, lt.Function):
            counts[v.name] += 1
        elif isinstance(v, lt.Constant):
            visit_constant(v)

    for fn in module.functions:
        if fn.is_declaration:
            continue
        for inst in fn.instructions():
            if is_debug_or_pseudo(inst):
                continue
            for o in inst.operands:
                use(o)
        for name in _header_function_refs(fn):
            counts[name] += 1
    for g in (*module.globals, *module.aliases, *module.ifuncs):
        try:
            init = g.initializer if isinstance(g, lt.GlobalVariable) else (
                g.aliasee if isinstance(g, lt.GlobalAlias) else g.resolver)
        except AssertionError:
            init = None
        if init is None:
            # the model leaves some forward references of global initializers unresolved
            # (None, or an error): fall back to the names the definition's text refers to
            for name in _text_refs(g):
                target = module.get_function(name)
                if target is not None:
                    counts[target.name] += 1
            continue
        use(init)
    return dict(counts)


_GLOBAL_REF = re.compile(r'@(?:"((?:[^"\\]|\\.)*)"|([-a-zA-Z$._0-9]+))')


def _text_refs(g) -> list[str]:
    """``@name`` references after the ``=`` of a global's definition, in order, duplicates kept."""
    text = g.text
    eq = text.find("=")
    out = []
    for m in _GLOBAL_REF.finditer(text, eq + 1 if eq >= 0 else 0):
        out.append(m.group(1) if m.group(1) is not None else m.group(2))
    return out


_HEADER_CLAUSE = re.compile(r"\b(?:personality|prefix|prologue)\b")
_COMMENT = re.compile(r";[^\n]*")


def _header_function_refs(fn) -> list[str]:
    """Functions named by ``personality``, ``prefix`` and ``prologue`` in a definition's header."""
    try:
        header = fn.header
    except Exception:  # a header the model cannot give has no such clauses for us
        return []
    header = _COMMENT.sub("", header)
    out = []
    for m in _HEADER_CLAUSE.finditer(header):
        ref = _GLOBAL_REF.search(header, m.end())
        if ref is None:
            continue
        name = ref.group(1) if ref.group(1) is not None else ref.group(2)
        target = fn.module.get_function(name)
        if target is not None:
            out.append(target.name)
    return out


# ---------------------------------------------------------------- func-properties

def function_properties(fn, *, uses: int | None = None, cfg: CFG | None = None,
                        loops: LoopInfo | None = None) -> dict[str, int]:
    """LLVM's func-properties of one defined function, keyed and ordered as opt prints them.

    ``uses`` is the function's use count in its module (:func:`function_use_counts`); when
    not given it is computed from ``fn.module``, which walks the whole module: use
    :func:`module_properties` for many functions.
    """
    if fn.is_declaration:
        raise ValueError(f"@{fn.name} is a declaration; func-properties describe definitions")
    blocks = fn.blocks
    module = fn.module
    cfg = cfg if cfg is not None else CFG.from_function(fn)
    loops = loops if loops is not None else LoopInfo(cfg)
    p = dict.fromkeys(FUNC_PROPERTY_NAMES, 0)
    npred = [len(x) for x in cfg.preds]
    total = 0
    for b, block in enumerate(blocks):
        if not cfg.reachable[b]:
            continue
        insts = block.instructions
        term = insts[-1] if insts else None
        top = term.opcode if term is not None else None
        succ = cfg.succs[b]
        nsucc = len(succ)
        p["BasicBlockCount"] += 1
        if top == "br" and nsucc == 2:
            p["BlocksReachedFromConditionalInstruction"] += 2
        elif top == "switch":
            p["BlocksReachedFromConditionalInstruction"] += nsucc
        counted = []
        for inst in insts:
            ops = counted_operands(inst)
            if ops is not None:
                counted.append((inst, ops))
            op = inst.opcode
            if op in CALL_OPCODES:
                callee = called_function(inst)
                if callee is not None and not callee.name.startswith("llvm.") and not callee.is_declaration:
                    p["DirectCallsToDefinedFunctions"] += 1
            if op == "load":
                p["LoadInstCount"] += 1
            elif op == "store":
                p["StoreInstCount"] += 1
        size = len(counted)
        total += size
        p["TotalInstructionCount"] = total

        if nsucc == 1:
            p["BasicBlocksWithSingleSuccessor"] += 1
        elif nsucc == 2:
            p["BasicBlocksWithTwoSuccessors"] += 1
        elif nsucc > 2:
            p["BasicBlocksWithMoreThanTwoSuccessors"] += 1
        npb = npred[b]
        if npb == 1:
            p["BasicBlocksWithSinglePredecessor"] += 1
        elif npb == 2:
            p["BasicBlocksWithTwoPredecessors"] += 1
        elif npb > 2:
            p["BasicBlocksWithMoreThanTwoPredecessors"] += 1
        # LLVM compares the running total, not this block's size
        if total > BIG_BLOCK_THRESHOLD:
            p["BigBasicBlocks"] += 1
        elif total > MEDIUM_BLOCK_THRESHOLD:
            p["MediumBasicBlocks"] += 1
        else:
            p["SmallBasicBlocks"] += 1
        if nsucc > 1:
            p["CriticalEdgeCount"] += sum(1 for s in succ if npred[s] > 1)
        p["ControlFlowEdgeCount"] += nsucc
        if top == "br":
            p["BranchInstructionCount"] += 1
            if nsucc == 1:
                p["UnconditionalBranchCount"] += 1
                p["BranchSuccessorCount"] += 1
            else:
                p["ConditionalBranchCount"] += 1
                p["BranchSuccessorCount"] += 2
        elif top == "switch":
            p["SwitchInstructionCount"] += 1
            p["SwitchSuccessorCount"] += nsucc

        for inst, ops in counted:
            op = inst.opcode
            t = _resolve(inst.type, module)
            if isinstance(t, lt.FunctionType):  # `call %FnTy @f()` names the callee's type
                t = t.return_type
            if op in CAST_OPCODES:
                p["CastInstructionCount"] += 1
            if _is_float_ty(t):
                p["FloatingPointInstructionCount"] += 1
            elif isinstance(t, lt.IntType):
                p["IntegerInstructionCount"] += 1
            if op == "call":
                if is_intrinsic_call(inst):
                    p["IntrinsicCount"] += 1
                callee = inst.callee
                if isinstance(callee, lt.Instruction | lt.Argument):
                    p["IndirectCallCount"] += 1
                else:
                    p["DirectCallCount"] += 1
                if isinstance(t, lt.IntType):
                    p["CallReturnsIntegerCount"] += 1
                elif isinstance(t, lt.FloatType):
                    p["CallReturnsFloatCount"] += 1
                elif isinstance(t, lt.PointerType):
                    p["CallReturnsPointerCount"] += 1
                elif isinstance(t, lt.VectorType):
                    e = t.element
                    if isinstance(e, lt.IntType):
                        p["CallReturnsVectorIntCount"] += 1
                    elif isinstance(e, lt.FloatType):
                        p["CallReturnsVectorFloatCount"] += 1
                    elif isinstance(e, lt.PointerType):
                        p["CallReturnsVectorPointerCount"] += 1
                args = counted_arguments(inst, ops)
                if len(args) > MANY_ARGUMENTS_THRESHOLD:
                    p["CallWithManyArgumentsCount"] += 1
                if any(isinstance(_value_type(a), lt.PointerType) for a in args):
                    p["CallWithPointerArgumentCount"] += 1
            for o in ops:
                p[_OPERAND_KEY[_fold_operand(o).cls]] += 1

    if uses is None:
        uses = function_use_counts(fn.module).get(fn.name, 0)
    p["Uses"] = uses + (0 if fn.linkage in _LOCAL_LINKAGES else 1)
    p["TopLevelLoopCount"] = len(loops.top_level)
    p["MaxLoopDepth"] = loops.max_depth
    return p


BIG_BLOCK_THRESHOLD = 500
MEDIUM_BLOCK_THRESHOLD = 15
MANY_ARGUMENTS_THRESHOLD = 4

_OPERAND_KEY = {
    "GlobalValue": "GlobalValueOperandCount", "ConstantInt": "ConstantIntOperandCount",
    "ConstantFP": "ConstantFPOperandCount", "Constant": "ConstantOperandCount",
    "Instruction": "InstructionOperandCount", "BasicBlock": "BasicBlockOperandCount",
    "InlineAsm": "InlineAsmOperandCount", "Argument": "ArgumentOperandCount",
    "Unknown": "UnknownOperandCount",
}


def module_properties(module) -> dict[str, dict[str, int]]:
    """:func:`function_properties` of every defined function: opt's output as a dict."""
    uses = function_use_counts(module)
    return {fn.name: function_properties(fn, uses=uses.get(fn.name, 0))
            for fn in module.functions if not fn.is_declaration}


def opcode_histogram(fn) -> dict[str, int]:
    """Instructions per opcode (every block, debug intrinsics excluded), keys in LLVM's opcode order."""
    c = Counter(i.opcode for i in fn.instructions() if not is_debug_or_pseudo(i))
    out = {op: c.pop(op) for op in LLVM_OPCODES if op in c}
    out.update(sorted(c.items()))
    return out


def type_category(t) -> str:
    """One of :data:`TYPE_CATEGORIES` for a result type."""
    if isinstance(t, lt.VoidType):
        return "void"
    if isinstance(t, lt.IntType):
        return f"i{t.width}" if t.width in (1, 8, 16, 32, 64, 128) else "int_other"
    if isinstance(t, lt.FloatType):
        return t.kind if t.kind in ("half", "bfloat", "float", "double") else "fp_other"
    if isinstance(t, lt.PointerType):
        return "ptr"
    if isinstance(t, lt.VectorType):
        e = t.element
        return "vec_int" if isinstance(e, lt.IntType) else "vec_fp" if isinstance(e, lt.FloatType) else (
            "vec_ptr" if isinstance(e, lt.PointerType) else "other")
    if isinstance(t, lt.StructType | lt.NamedStructType):
        return "struct"
    if isinstance(t, lt.ArrayType):
        return "array"
    if isinstance(t, lt.TokenType):
        return "token"
    return "other"


def type_histogram(fn) -> dict[str, int]:
    """Instructions per result-type category, every category present (zeros included)."""
    out = dict.fromkeys(TYPE_CATEGORIES, 0)
    for i in fn.instructions():
        if not is_debug_or_pseudo(i):
            out[type_category(_resolve(i.type, fn.module))] += 1
    return out


# Keys of feature_vector, in order: stable across releases (new keys are only appended).
FEATURE_VECTOR_KEYS: tuple[str, ...] = (
    *(f"fp.{n}" for n in FUNC_PROPERTY_NAMES),
    *(f"op.{n}" for n in LLVM_OPCODES),
    *(f"ty.{n}" for n in TYPE_CATEGORIES),
    "cfg.blocks_total", "cfg.unreachable_blocks", "cfg.loops", "cfg.max_loop_blocks",
    "cfg.domtree_depth", "cfg.back_edges", "fn.arguments", "fn.pointer_arguments", "fn.is_vararg",
    "fn.instructions_in_loops", "fn.memory_ops_in_loops", "fn.calls_in_loops", "fn.phis",
)


def feature_vector(fn, *, uses: int | None = None) -> dict[str, float]:
    """A flat ``{key: float}`` for the cost model, keys exactly :data:`FEATURE_VECTOR_KEYS`.

    ``fp.*``  LLVM's func-properties (:func:`function_properties`);
    ``op.*``  instructions per opcode, over all blocks (:func:`opcode_histogram`);
    ``ty.*``  instructions per result-type category (:func:`type_histogram`);
    ``cfg.*`` blocks (all, unreachable), natural loops (count, largest in blocks), depth of the
              dominator tree, retreating DFS edges (irreducible cycles included);
    ``fn.*``  arguments (all, pointers), 1.0 if variadic, reachable instructions inside loops,
              loads/stores and calls inside loops, phi nodes.
    """
    cfg = CFG.from_function(fn)
    dt = DominatorTree(cfg)
    li = LoopInfo(cfg, dt)
    props = function_properties(fn, uses=uses, cfg=cfg, loops=li)
    out = dict.fromkeys(FEATURE_VECTOR_KEYS, 0.0)
    for k, v in props.items():
        out[f"fp.{k}"] = float(v)
    for k, v in opcode_histogram(fn).items():
        key = f"op.{k}"
        if key in out:
            out[key] = float(v)
    for k, v in type_histogram(fn).items():
        out[f"ty.{k}"] = float(v)
    loops = li.loops()
    out["cfg.blocks_total"] = float(len(cfg))
    out["cfg.unreachable_blocks"] = float(len(cfg.unreachable_blocks()))
    out["cfg.loops"] = float(len(loops))
    out["cfg.max_loop_blocks"] = float(max((len(lp.blocks) for lp in loops), default=0))
    out["cfg.domtree_depth"] = float(max((lv for lv in dt.level if lv >= 0), default=0))
    out["cfg.back_edges"] = float(len(cfg.back_edges_dfs()))
    args = fn.arguments
    out["fn.arguments"] = float(len(args))
    out["fn.pointer_arguments"] = float(sum(1 for a in args if isinstance(a.type, lt.PointerType)))
    out["fn.is_vararg"] = 1.0 if fn.type.vararg else 0.0
    in_loops = mem = calls = phis = 0
    for b, block in enumerate(fn.blocks):
        inloop = cfg.reachable[b] and li.loop_for(b) is not None
        for inst in block.instructions:
            if is_debug_or_pseudo(inst):
                continue
            op = inst.opcode
            phis += op == "phi"
            if inloop:
                in_loops += 1
                mem += op in ("load", "store")
                calls += op in CALL_OPCODES
    out["fn.instructions_in_loops"] = float(in_loops)
    out["fn.memory_ops_in_loops"] = float(mem)
    out["fn.calls_in_loops"] = float(calls)
    out["fn.phis"] = float(phis)
    return out
