"""Triage: would a TVM maintainer call this a bug?

Every oracle verdict gets one class, with the reasons:

* ``bug``: a crash, abort or internal check on valid input run in the documented order;
  ill-formed output from well-formed input; a wrong result of a UB-free program.  Only these
  are findings (``findings/``).
* ``misuse``: a documented pre-condition is broken: a pass run against its docstring, against
  the order of ``tvm.s_tir.pipeline.default_s_tir_pipeline`` (the fact model of
  :mod:`irtoolkit.fuzz.tvm.passes`), or for a target kind it is not for.
* ``robustness``: a signal (SIGSEGV, SIGABRT) on misuse: TVM should raise instead, but it is not
  a wrong answer to a valid question.  Listed apart.
* ``fuzzer-artefact``: the input holds IR that TVM's own front ends never produce (written by
  the fuzzer's mutators).

Everything but ``bug`` goes to ``triaged/<class>/<signature>/`` with ``reason`` in its meta.
"""

from __future__ import annotations

from dataclasses import dataclass

from .tvm import passes as P

BUG, MISUSE, ROBUSTNESS, ARTEFACT = "bug", "misuse", "robustness", "fuzzer-artefact"
CLASSES = (BUG, MISUSE, ROBUSTNESS, ARTEFACT)

# Passes that TVM runs only for other target kinds than the fuzzer's ``llvm`` (CPU) target.
TARGET_ONLY = {
    "tirx.LowerWarpMemory": "a device pass of finalize_device_passes (CUDA/ROCm warp memory); never run for an "
                            "llvm (CPU) target",
}
# Passes TVM documents as not for the default flow, with what running them anyway changes.
NOT_DEFAULT = {
    "tirx.PointerValueTypeRewrite": "not in TVM's CPU pipeline: it rewrites the pointer types of the parameters of "
                                    "the public entry function (its documented job), which the packed API and "
                                    "code generation then see changed",
    "tirx.ForceNarrowIndexToInt32": 'docstring: "This pass should not be used in default cases."',
    "s_tir.InstrumentProfileIntrinsics": "not in TVM's default flow: the pipeline adds it only under the "
                                         "tirx.instrument_lwp option (Hexagon's lightweight profiling), and only "
                                         "LLVM-based code generators lower the profiling intrinsics it inserts",
    "s_tir.DecorateDeviceScope": "not in TVM's CPU pipeline: it marks the whole function body as device code "
                                 "(a device_scope attribute), which host lowering of an llvm target does not expect",
}


@dataclass(frozen=True)
class Triage:
    cls: str
    reasons: tuple[str, ...] = ()

    @property
    def is_bug(self) -> bool:
        return self.cls == BUG


def triage(kind: str, pass_index: int | None, passes: list, result: dict | None = None) -> Triage:
    """Class a verdict of ``kind`` whose culprit is pass ``pass_index`` of ``passes`` (JSON pass
    list; None or len(passes): after the whole list, at verification or code generation)."""
    result = result or {}
    plist = P.from_json(passes)
    idx = len(plist) if pass_index is None else pass_index
    signal = kind.startswith("signal")
    arte = tuple(result.get("artefacts") or ())
    if arte:  # a crash on such an input is still TVM's to fix (an error was due): robustness, listed apart
        return Triage(ROBUSTNESS if signal else ARTEFACT, arte)
    limits = tuple(result.get("limits") or ())
    if limits:  # an input the case's target does not take (execute.target_limits)
        return Triage(ROBUSTNESS if signal else MISUSE, limits)
    reasons: list[str] = []
    # the failing pass's own broken pre-conditions first, then those of the passes before it
    for v in sorted(P.check(plist)[0], key=lambda v: (v.index != idx, -v.index)):
        if v.index < idx:  # an earlier pass's pre-condition that matters to that pass alone is no reason
            v = P.Violation(v.index, v.name, *(tuple(f for f in fs if (v.name, f) not in P.LOCAL)
                                               for fs in (v.missing, v.forbidden)))
        if v.index <= idx and (v.missing or v.forbidden):
            reasons += [f"{v.explain()}: {r}" for r in v.reasons()]
    message = (result.get("error") or {}).get("message") or ""
    for name, fact, text in P.BY_ERROR:
        if idx < len(plist) and plist[idx][0] == name and text in message and fact not in P.check(plist[:idx])[1]:
            reasons.append(f"pass #{idx} {name}: needs {fact}: {P.documented(name, fact)}")
    for j, (name, _) in enumerate(plist[: idx + 1]):
        if name in TARGET_ONLY:
            reasons.append(f"pass #{j} {name}: {TARGET_ONLY[name]}")
        # a pass outside the default flow is misuse only when what fails comes after it
        if name in NOT_DEFAULT and j < idx:
            reasons.append(f"pass #{j} {name}: {NOT_DEFAULT[name]}")
    if reasons:
        return Triage(ROBUSTNESS if signal else MISUSE, tuple(reasons))
    if kind == "miscompile" and result.get("ub"):
        return Triage(MISUSE, tuple(f"the program has undefined behaviour: {u}" for u in result["ub"]))
    return Triage(BUG, ())
