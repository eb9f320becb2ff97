"""The pass catalogue: every tirx / s_tir transform the fuzzer may schedule, with parameters and a
model of its pre-conditions.

A pass list is JSON: ``[["s_tir.LowerInitBlock", {}], ["tirx.NarrowDataType", {"target_bits": 32}], ...]``.
The model tracks lowering *facts* about the module as the list is applied.  A pass whose
``requires`` facts do not hold, or whose ``forbids`` facts do, runs on IR it was not written
for: an error it raises is *expected*.  An error raised with every modelled pre-condition met is
a finding.  The facts follow the order of TVM's own ``s_tir`` pipeline (``default_pipeline()``):
init blocks lowered before blocks become opaque, opaque before lowering blocks, blocks lowered
before flattening, host/device split before the packed API, packed API before storage
legalisation and builtin lowering.

This module is pure data plus small functions: no TVM import until :func:`instantiate`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

# Facts about the module, in pipeline order.
TARGET = "target"                # BindTarget has run (the runner always binds first)
INIT_LOWERED = "init_lowered"    # no T.init() left (LowerInitBlock / LowerCrossThreadReduction)
PLANNED = "planned"              # allocations at their accesses' LCA, unused ones gone (PlanAndUpdateBufferAllocationLocation)
OPAQUE = "opaque"                # sblocks have no iter vars (ConvertBlocksToOpaque)
NO_BLOCKS = "no_blocks"          # sblocks are gone (LowerOpaqueBlock)
FLAT = "flat"                    # buffers are flat (FlattenBuffer)
SPLIT = "split"                  # host/device split (SplitHostDevice)
PACKED = "packed"                # packed calling convention (MakePackedAPI)
BUILTIN_LOWERED = "builtin_lowered"  # LowerTVMBuiltin has run
VECTORIZED = "vectorized"        # vectorized loops are lowered (VectorizeLoop, either setting)
BF16_STORAGE = "bf16_storage"    # bfloat16 storage legalised (BF16StorageLegalize)
INTRIN_LOWERED = "intrin_lowered"  # intrinsics lowered to target calls (LowerIntrin)
VTHREAD = "vthread"              # virtual threads injected (InjectVirtualThread; GPU schedules bind vthreads)
BF16_COMPUTE = "bf16_compute"    # bfloat16 arithmetic legalised (BF16ComputeLegalize)
FACTS = (TARGET, INIT_LOWERED, PLANNED, OPAQUE, NO_BLOCKS, FLAT, BF16_COMPUTE, VECTORIZED, VTHREAD, SPLIT, PACKED,
         BF16_STORAGE, BUILTIN_LOWERED, INTRIN_LOWERED)


@dataclass(frozen=True)
class PassSpec:
    name: str                                  # "tirx.FlattenBuffer"
    params: dict = field(default_factory=dict)  # parameter -> tuple of choices (first = default)
    requires: frozenset = frozenset()
    forbids: frozenset = frozenset()          # facts after which the pass must not run (non-idempotent)
    establishes: frozenset = frozenset()

    @property
    def module(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def ctor(self) -> str:
        return self.name.split(".", 1)[1]


def _p(name, params=None, requires=(), forbids=(), establishes=()):
    return PassSpec(name, dict(params or {}), frozenset(requires), frozenset(forbids), frozenset(establishes))


# The PassContext options of the simplifier (``tirx.StmtSimplify``, read by both StmtSimplify passes);
# an argument "config.<field>" is a PassContext option (``replay.split_args``), first choice TVM's default
_SIMPLIFY = {"config.transitively_prove_inequalities": (False, True),
             "config.convert_boolean_to_and_of_ors": (False, True),
             "config.apply_constraints_to_boolean_branches": (False, True)}

_BLOCKY = ()  # passes that only touch sblocks are no-ops once blocks are gone: no pre-condition

CATALOGUE: dict[str, PassSpec] = {s.name: s for s in [
    # --- s_tir: schedulable TIR, block form
    _p("s_tir.CanonicalizeLoop"),
    _p("s_tir.LowerCrossThreadReduction", requires=[TARGET]),
    _p("s_tir.LowerInitBlock", establishes=[INIT_LOWERED]),
    _p("s_tir.PlanAndUpdateBufferAllocationLocation", requires=[INIT_LOWERED], establishes=[PLANNED]),
    _p("s_tir.ConvertBlocksToOpaque", requires=[INIT_LOWERED], establishes=[OPAQUE]),
    # after ConvertBlocksToOpaque: it substitutes a lifted thread variable into block bodies, which a block
    # with iteration variables may not read (its loop-carried values come only through its bindings)
    _p("s_tir.LiftThreadBinding", requires=[OPAQUE], forbids=[NO_BLOCKS]),
    _p("s_tir.ManifestSharedMemoryLocalStage"),
    _p("s_tir.CompactBufferAllocation", {"is_strict": (True, False)}, requires=[PLANNED, OPAQUE], forbids=[NO_BLOCKS]),
    _p("s_tir.LowerAutoCopy", requires=[TARGET]),
    _p("s_tir.UnifyThreadBinding", forbids=[NO_BLOCKS]),
    _p("s_tir.LowerMatchBuffer"),
    _p("s_tir.StmtSimplify", _SIMPLIFY),
    _p("s_tir.InjectPermutedLayout"),
    _p("s_tir.AnnotateIrregularLoop"),
    _p("s_tir.InjectSoftwarePipeline"),
    _p("s_tir.TransformMmaBufferLayout"),
    _p("s_tir.LowerOpaqueBlock", requires=[OPAQUE], establishes=[NO_BLOCKS]),
    _p("s_tir.LoopPartition", {"config.partition_const_loop": (False, True),
                                "config.no_unroll_loop_with_extent_one": (False, True),
                                "config.unroll_loop_with_partition_hint_no_interval": (False, True)}),
    _p("s_tir.InjectVirtualThread", requires=[NO_BLOCKS], forbids=[SPLIT], establishes=[VTHREAD]),
    _p("s_tir.InjectDoubleBuffer", {"config.split_loop": (0, 1, 2)}),
    _p("s_tir.HoistIfThenElse", {"variant": (None, "basic"), "config.support_block_scope_hoisting": (False, True)},
       requires=[NO_BLOCKS]),
    # bit sets (HoistedConditionals, HoistedLetBindings): TVM's default, none, each kind alone, all
    _p("s_tir.HoistExpression", {"config.hoisted_conditionals": (7, 0, 1, 2, 4, 15),
                                 "config.hoisted_let_bindings": (1, 0, 2, 4, 7)}, requires=[NO_BLOCKS]),
    _p("s_tir.RenormalizeSplitPattern", forbids=[INTRIN_LOWERED]),
    _p("s_tir.RewriteUnsafeSelect"),
    _p("s_tir.InstrumentBoundCheckers", requires=[FLAT]),
    _p("s_tir.VerifyVTCMLimit", requires=[TARGET]),
    _p("s_tir.LowerVtcmAlloc"),
    # the scopes TVM's pipeline syncs ("global" is a grid-wide barrier no pipeline of TVM 0.27 asks for)
    _p("s_tir.ThreadSync", {"storage_scope": ("shared", "shared.dyn", "warp")}, requires=[NO_BLOCKS]),
    _p("s_tir.InferFragment"),
    _p("s_tir.LowerThreadAllreduce", requires=[TARGET]),
    _p("s_tir.MergeSharedMemoryAllocations"),
    _p("s_tir.RemoveStoreUndef"),
    _p("s_tir.ConvertSSA"),
    _p("s_tir.UseAssumeToReduceBranches"),
    _p("s_tir.RemoveWeightLayoutRewriteBlock", {"skip_tensor_rewrite": (False, True)}),
    _p("s_tir.DecorateDeviceScope"),
    _p("s_tir.InstrumentProfileIntrinsics"),
    # --- tirx: low-level TIR
    _p("tirx.FlattenBuffer", requires=[NO_BLOCKS], establishes=[FLAT]),
    _p("tirx.BF16ComputeLegalize", establishes=[BF16_COMPUTE]),
    # its docstring: "Run this pass after FlattenBuffer" (its SIGSEGV on block form is misuse)
    _p("tirx.NarrowDataType", {"target_bits": (32, 16, 64)}, requires=[FLAT]),
    _p("tirx.VectorizeLoop", {"enable_vectorize": (True, False)}, requires=[NO_BLOCKS], establishes=[VECTORIZED]),
    _p("tirx.StorageRewrite", requires=[FLAT, VECTORIZED, VTHREAD], forbids=[PACKED]),
    _p("tirx.UnrollLoop", {"config.auto_max_step": (0, 16, 64, 512), "config.auto_max_depth": (8, 2),
                           "config.auto_max_extent": (0, 4, 32), "config.explicit_unroll": (True, False),
                           "config.unroll_local_access": (False, True)}, requires=[NO_BLOCKS]),
    _p("tirx.StmtSimplify", _SIMPLIFY),
    # (RemoveNoOp's max_simplification_steps is a debugging trip-wire: it throws by design, so it is not varied)
    _p("tirx.RemoveNoOp"),
    _p("tirx.CommonSubexprElim"),
    _p("tirx.FP8ComputeLegalize", {"promote_dtype": ("float32", "float16")}),
    _p("tirx.VerifyMemory", requires=[TARGET, FLAT]),
    _p("tirx.AnnotateEntryFunc"),
    _p("tirx.SplitHostDevice", requires=[TARGET, NO_BLOCKS], establishes=[SPLIT]),
    _p("tirx.MakePackedAPI", requires=[TARGET, SPLIT, FLAT], forbids=[PACKED], establishes=[PACKED]),
    _p("tirx.FP8StorageLegalize", requires=[PACKED]),
    _p("tirx.BF16StorageLegalize", requires=[PACKED, BF16_COMPUTE], establishes=[BF16_STORAGE]),
    _p("tirx.LowerTVMBuiltin", requires=[PACKED], forbids=[BUILTIN_LOWERED], establishes=[BUILTIN_LOWERED]),
    _p("tirx.LowerIntrin", requires=[TARGET], establishes=[INTRIN_LOWERED]),
    _p("tirx.ConvertSSA"),
    _p("tirx.RemoveAssume"),
    _p("tirx.SkipAssert"),
    _p("tirx.ForceNarrowIndexToInt32", requires=[FLAT]),
    _p("tirx.PointerValueTypeRewrite", requires=[FLAT]),
    _p("tirx.InlinePrivateFunctions"),
    _p("tirx.LowerWarpMemory", requires=[TARGET, NO_BLOCKS]),
]}

# A fact a pass needs that no earlier pass established also breaks the final build: codegen
# needs every fact up to BUILTIN_LOWERED.
CODEGEN_REQUIRES = frozenset(FACTS) - {VTHREAD, PLANNED}  # a list without virtual threads or planning still builds

PassCall = tuple[str, tuple[tuple[str, object], ...]]  # hashable form of one list entry


def call(name: str, **args) -> PassCall:
    return (name, tuple(sorted(args.items())))


def default_pipeline() -> list[PassCall]:
    """TVM's own ``s_tir`` pipeline for an LLVM target, plus the host finalisation passes."""
    return [
        call("s_tir.CanonicalizeLoop"), call("s_tir.LowerCrossThreadReduction"), call("s_tir.LowerInitBlock"),
        call("s_tir.PlanAndUpdateBufferAllocationLocation"), call("s_tir.ConvertBlocksToOpaque"),
        call("s_tir.LiftThreadBinding"), call("s_tir.ManifestSharedMemoryLocalStage"),
        call("s_tir.CompactBufferAllocation", is_strict=True), call("s_tir.LowerAutoCopy"),
        call("s_tir.UnifyThreadBinding"), call("s_tir.LowerMatchBuffer"), call("s_tir.StmtSimplify"),
        call("s_tir.InjectPermutedLayout"), call("s_tir.AnnotateIrregularLoop"),
        call("s_tir.InjectSoftwarePipeline"), call("s_tir.TransformMmaBufferLayout"),
        call("s_tir.LowerOpaqueBlock"), call("tirx.FlattenBuffer"), call("tirx.BF16ComputeLegalize"),
        call("tirx.NarrowDataType", target_bits=32), call("s_tir.LoopPartition"),
        call("tirx.VectorizeLoop", enable_vectorize=True), call("s_tir.InjectVirtualThread"),
        call("s_tir.InjectDoubleBuffer"), call("tirx.StorageRewrite"), call("s_tir.HoistIfThenElse", variant=None),
        call("tirx.UnrollLoop"), call("s_tir.RenormalizeSplitPattern"), call("tirx.StmtSimplify"),
        call("tirx.RemoveNoOp"), call("s_tir.RewriteUnsafeSelect"), call("tirx.CommonSubexprElim"),
        call("tirx.FP8ComputeLegalize", promote_dtype="float32"), call("s_tir.VerifyVTCMLimit"),
        call("s_tir.LowerVtcmAlloc"), call("tirx.VerifyMemory"), call("tirx.AnnotateEntryFunc"),
        call("s_tir.ThreadSync", storage_scope="shared"), call("s_tir.ThreadSync", storage_scope="shared.dyn"),
        call("s_tir.ThreadSync", storage_scope="warp"), call("s_tir.InferFragment"),
        call("s_tir.LowerThreadAllreduce"), call("s_tir.MergeSharedMemoryAllocations"),
        call("tirx.SplitHostDevice"), call("tirx.MakePackedAPI"), call("tirx.FP8StorageLegalize"),
        call("tirx.BF16StorageLegalize"),
        # host finalisation (finalize_host_passes)
        call("tirx.LowerTVMBuiltin"), call("tirx.LowerIntrin"),
    ]


# Why a pre-condition holds: where TVM documents it (a docstring) or the order of its own pipeline
# (``tvm.s_tir.pipeline.default_s_tir_pipeline`` then ``finalize_host_passes``).  A triaged
# ``misuse`` quotes this.
_ORDER = "tvm.s_tir.pipeline.default_s_tir_pipeline runs it only after"
DOCUMENTED: dict[tuple[str, str], str] = {
    ("tirx.NarrowDataType", FLAT): 'docstring of tvm.tirx.transform.NarrowDataType: "Run this pass after FlattenBuffer."',
    ("tirx.VectorizeLoop", NO_BLOCKS): f"{_ORDER} LowerOpaqueBlock and FlattenBuffer: it lowers loops of "
                                       "low-level (block-free) TIR",
    ("tirx.VectorizeLoop", FLAT): f"{_ORDER} FlattenBuffer: a buffer access may carry a vector only in its last "
                                  "index (BufferLoad/BufferStore's check), so a loop variable in an outer index of "
                                  "a multi-dimensional access cannot be vectorized before flattening",
    ("s_tir.CompactBufferAllocation", PLANNED): f"{_ORDER} PlanAndUpdateBufferAllocationLocation, which removes the "
                                                "allocations nothing accesses: CompactBufferAllocation checks that "
                                                "every allocated buffer is accessed ('is allocated but not accessed "
                                                "within block scope')",
    ("tirx.UnrollLoop", NO_BLOCKS): f"{_ORDER} LowerOpaqueBlock, FlattenBuffer and VectorizeLoop",
    ("s_tir.RenormalizeSplitPattern", INTRIN_LOWERED): "default_s_tir_pipeline runs it before the host "
                                                       "finalisation's LowerIntrin, never after",
    ("s_tir.HoistIfThenElse", NO_BLOCKS): f"{_ORDER} LowerOpaqueBlock, FlattenBuffer and StorageRewrite: it "
                                          "hoists conditions of low-level loops, not of sblocks",
    ("s_tir.HoistExpression", NO_BLOCKS): "the generalisation of HoistIfThenElse (not in the default pipeline), "
                                          "which TVM runs only after LowerOpaqueBlock",
    ("s_tir.CompactBufferAllocation", NO_BLOCKS): "default_s_tir_pipeline runs it before LowerOpaqueBlock: it "
                                                  "compacts the buffers that sblocks allocate",
    ("tirx.StorageRewrite", FLAT): f"{_ORDER} FlattenBuffer",
    ("tirx.StorageRewrite", VECTORIZED): f"{_ORDER} VectorizeLoop",
    ("tirx.StorageRewrite", VTHREAD): f"{_ORDER} InjectVirtualThread: it plans storage per thread scope, and a "
                                      "virtual thread (a GPU schedule's vthread binding) is not one until injected",
    ("tirx.BF16StorageLegalize", BF16_COMPUTE): f"{_ORDER} BF16ComputeLegalize: storage is legalised once the "
                                                "arithmetic is (a code generator without bfloat16 arithmetic, "
                                                "C or a GPU's, needs both)",
    ("s_tir.InjectVirtualThread", NO_BLOCKS): f"{_ORDER} LowerOpaqueBlock, FlattenBuffer and VectorizeLoop",
    ("s_tir.InjectVirtualThread", SPLIT): "default_s_tir_pipeline runs it before SplitHostDevice, on the "
                                          "undivided function",
    ("s_tir.LiftThreadBinding", NO_BLOCKS): "default_s_tir_pipeline runs it before LowerOpaqueBlock: it lifts "
                                            "thread bindings of sblock-form TIR",
    ("s_tir.LiftThreadBinding", OPAQUE): f"{_ORDER} ConvertBlocksToOpaque: it replaces the variables of "
                                         "same-tag thread loops by one lifted to their common ancestor, which only an "
                                         "opaque block may read (a block with iteration variables sees loop "
                                         "variables only through its bindings)",
    ("s_tir.UnifyThreadBinding", NO_BLOCKS): "default_s_tir_pipeline runs it before LowerOpaqueBlock: it unifies "
                                             "the thread bindings of sblock-form TIR",
    ("tirx.StorageRewrite", PACKED): "default_s_tir_pipeline runs it before SplitHostDevice and MakePackedAPI, "
                                     "never on the packed host function",
    ("tirx.MakePackedAPI", SPLIT): f"{_ORDER} SplitHostDevice",
    ("tirx.MakePackedAPI", FLAT): f"{_ORDER} FlattenBuffer",
    ("tirx.FlattenBuffer", NO_BLOCKS): f"{_ORDER} LowerOpaqueBlock",
    ("s_tir.LowerOpaqueBlock", OPAQUE): f"{_ORDER} ConvertBlocksToOpaque",
}


# Pre-conditions that matter to the pass alone: broken, it fails itself or leaves ill-formed output (which
# blame then lands on); when it does neither, what it left is IR the later passes take.  A failure after
# such a pass is not misuse on its account (the fuzzer's lists skip and reorder passes often, and a real
# bug further down must not hide behind them).
LOCAL: frozenset = frozenset({("s_tir.LiftThreadBinding", OPAQUE), ("s_tir.CompactBufferAllocation", PLANNED)})
# Pre-conditions that only one error of the pass shows: (pass, fact, the error's text).  VectorizeLoop
# vectorizes block-free, unflattened loops as long as the loop variable stays in last indices, so only
# this refusal says that it needed FlattenBuffer first.
BY_ERROR: tuple = (("tirx.VectorizeLoop", FLAT, "Only the last index of a buffer access may be a vector type"),)


def documented(name: str, fact: str) -> str:
    return DOCUMENTED.get((name, fact)) or f"the order of TVM's default pipeline ({fact} first)"


@dataclass(frozen=True)
class Violation:
    index: int     # position in the list
    name: str
    missing: tuple[str, ...]
    forbidden: tuple[str, ...]

    def explain(self) -> str:
        bits = []
        if self.missing:
            bits.append("needs " + ", ".join(self.missing))
        if self.forbidden:
            bits.append("must not run after " + ", ".join(self.forbidden))
        return f"pass #{self.index} {self.name}: " + "; ".join(bits)

    def reasons(self) -> list[str]:
        """The documented pre-conditions broken, with where TVM documents each."""
        return [documented(self.name, f) for f in (*self.missing, *self.forbidden)]


def check(passes: list[PassCall], facts: frozenset = frozenset({TARGET})) -> tuple[list[Violation], frozenset]:
    """Walk the list through the fact model: the violations, and the facts at the end."""
    have = set(facts)
    out = []
    for i, (name, _args) in enumerate(passes):
        spec = CATALOGUE[name]
        missing = tuple(f for f in FACTS if f in spec.requires and f not in have)
        forbidden = tuple(f for f in FACTS if f in spec.forbids and f in have)
        if missing or forbidden:
            out.append(Violation(i, name, missing, forbidden))
        have |= spec.establishes
    return out, frozenset(have)


def violation_at(passes: list[PassCall], index: int) -> Violation | None:
    viol, _ = check(passes[: index + 1])
    return next((v for v in viol if v.index == index), None)


def codegen_ready(passes: list[PassCall]) -> bool:
    _, facts = check(passes)
    return CODEGEN_REQUIRES <= facts


# --- JSON form
def to_json(passes: list[PassCall]) -> list:
    return [[name, dict(args)] for name, args in passes]


def from_json(data) -> list[PassCall]:
    if isinstance(data, str):
        data = json.loads(data)
    out = []
    for entry in data:
        name, args = entry[0], entry[1] if len(entry) > 1 else {}
        if name not in CATALOGUE:
            raise ValueError(f"unknown pass {name!r} (not in the catalogue)")
        out.append(call(name, **args))
    return out


def in_catalogue(pc: PassCall) -> bool:
    spec = CATALOGUE.get(pc[0])
    if spec is None:
        return False
    return all(k in spec.params and v in spec.params[k] for k, v in pc[1])


def instantiate(pc: PassCall):
    """The TVM pass object for one list entry (imports TVM); run it under :func:`context`."""
    from .replay import make_pass

    return make_pass(pc[0], dict(pc[1]))


def context(pc: PassCall, **kw):
    """The PassContext of one list entry (its ``config.*`` options)."""
    from .replay import pass_context

    return pass_context(pc[0], dict(pc[1]), **kw)


def pass_label(pc: PassCall) -> str:
    args = ",".join(f"{k}={v}" for k, v in pc[1])
    return f"{pc[0]}({args})" if args else pc[0]
