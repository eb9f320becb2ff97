"""Findings on disk: one folder per signature, written atomically, each a self-contained report.

``findings/<kind>-<hash>/`` (triage class ``bug``) or ``triaged/<class>/<kind>-<hash>/`` (misuse,
robustness, fuzzer-artefact, with the reason in ``meta.json`` and ``report.md``): ``case.tir``
(TVMScript), ``passes.json``, ``log.txt``, ``meta.json`` (versions, seed, signature, blame,
triage), ``reproducer.py`` (self-contained: needs only TVM and NumPy), ``report.md``, and once
the reproducer has been replayed alone, ``replay.json`` (did it reproduce, does plain
``tvm.compile`` fail, the backtrace, LLVM's version).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .oracles import Verdict
from .triage import BUG


def signature(v: Verdict) -> str:
    """One root cause, one signature: the failing check's source location and its normalised
    condition (no pass name, no dtype, no values).  Without a source location (a signal), the
    innermost TVM frames stand in for it."""
    key = [v.kind, v.location, v.condition]
    if not v.location.startswith("src/"):
        key += list(v.frames)
    h = hashlib.sha1("\x1f".join(key).encode()).hexdigest()[:12]
    return f"{v.kind}-{h}"


def atomic_write(path: Path, data: str | bytes) -> None:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    # rename is atomic against SIGINT/SIGKILL of this process, which is what a campaign must
    # survive; an fsync per corpus entry would only add power-loss safety at a high price
    os.replace(tmp, path)


def versions() -> dict:
    """Package versions for a TVM bug report (LLVM's comes from the replay, which imports TVM)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("apache-tvm", "apache-tvm-ffi", "numpy", "irtoolkit"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    out["python"] = platform.python_version()
    out["os"] = platform.platform()
    return out


_REPRO_HEAD = '''#!/usr/bin/env python3
"""Reproducer of {kind} `{signature}`, written by `irtools fuzz`.  Needs only `tvm` and `numpy`.

    python reproducer.py            # exits 1 (or dies by the signal) when the bug reproduces, 0 when not
    python reproducer.py --report   # first says whether plain tvm.compile fails on the input (a JSON line)

Parses the PrimFunc below (TVMScript), binds its target (its own `target` attribute, else llvm;
GPU code is generated, never run: CUDA stays source, no nvcc), applies the pass list one pass at a
time, checking well-formedness after each pass that changed the IR (the first ill-formed output
is the culprit), verifies and builds; for a wrong result, runs it against TVM's default pipeline
on the inputs that the fuzzer drew.  The helper functions are the fuzzer's own replay code.
Expected failure: {message}
"""
from __future__ import annotations

import faulthandler
import json
import os
import sys

faulthandler.enable()  # a SIGSEGV inside TVM prints its Python frames; TVM prints its C++ frames
'''

_REPRO_MAIN = '''

# ---- the case
KIND = {kind!r}
SEED = {seed!r}
SCRIPT = {script!r}
PASSES = {passes!r}
DEFAULT_PIPELINE = {default!r}


def lower(func, pass_list, target, check=True):
    import tvm
    import tvm_ffi

    mod = bind(func, target)
    for i, (name, args) in enumerate(pass_list):
        print(f"[{{i}}] {{name}} {{args or ''}}", flush=True)
        with pass_context(name, args):
            new = make_pass(name, args)(mod)
        if check and not new.same_as(mod) and tvm_ffi.structural_hash(new) != tvm_ffi.structural_hash(mod):
            try:
                verify_module(new)
            except Exception as e:
                raise RuntimeError(f"pass #{{i}} {{name}} produced ill-formed IR: {{e}}") from e
        mod = new
    return mod


def llvm_version():
    import tvm
    import tvm_ffi

    v = tvm.support.libinfo().get("LLVM_VERSION")
    f = tvm_ffi.get_global_func("target.llvm_version_major", allow_missing=True)
    return str(v) if v else (f"{{f()}} (major)" if f is not None else "unknown")


def inputs(func):
    return random_args(func, np.random.default_rng(SEED))


def plain_compile(func):
    """Whether plain tvm.compile(func, target=...) (TVM's default pipeline) succeeds, and its error."""
    import tvm

    try:
        target = case_target(func)
        if target.kind.name != "llvm":
            _cuda_source_only()
        tvm.compile(tvm.IRModule({{"main": func}}), target=target)
        return "ok"
    except Exception as e:
        return f"{{type(e).__name__}}: {{str(e).strip().splitlines()[-1][:300]}}"


def main(report: bool) -> int:
    import tvm

    func = tvm.script.from_source(SCRIPT)
    if os.environ.get("REPRO_DUMP_INPUTS"):  # the inputs the fuzzer used, for a test to compare
        np.savez(os.environ["REPRO_DUMP_INPUTS"], *inputs(func))
        return 0
    if report:
        info = {{"tvm": tvm.__version__, "llvm": llvm_version(),
                "plain_tvm_compile": plain_compile(func)}}
        print("REPORT " + json.dumps(info), flush=True)
    target = case_target(func)
    mod = lower(func, PASSES, target)
    verify_module(mod)
    if KIND in ("miscompile", "run-error", "codegen-error"):
        rt = build(mod, target)
        if KIND == "miscompile":
            args = inputs(func)
            ref = run(build(lower(func, DEFAULT_PIPELINE, target, check=False), target)["main"], args)
            out = run(rt["main"], args)
            for k, (a, b) in enumerate(zip(out, ref)):
                if not close(a, b):
                    print(f"MISMATCH in buffer {{k}}: expected (default pipeline) {{b.ravel()[:8]}}, "
                          f"actual (pass list) {{a.ravel()[:8]}}, max |diff| {{max_abs_diff(a, b)}}")
                    return 1
    print("did not reproduce")
    return 0


if __name__ == "__main__":
    sys.exit(main("--report" in sys.argv))
'''


def _replay_source() -> str:
    src = (Path(__file__).parent / "tvm" / "replay.py").read_text()
    return src.replace("from __future__ import annotations\n", "")


def reproducer_source(*, signature: str, kind: str, message: str, case: str, passes: list, seed: int,
                      default_passes: list) -> str:
    """A self-contained reproducer: the replay code of :mod:`irtoolkit.fuzz.tvm.replay` (the code the
    fuzzer's child ran), with the TVMScript and the pass list inline."""
    head = _REPRO_HEAD.format(kind=kind, signature=signature, message=message.replace('"', "'"))
    return head + _replay_source() + _REPRO_MAIN.format(kind=kind, seed=seed, script=case, passes=passes,
                                                        default=default_passes)


def folder_for(out: Path, v: Verdict) -> Path:
    """Where a verdict's folder goes in a campaign folder ``out``."""
    if v.kind == "hang":
        return Path(out) / "hangs"
    if v.triage.cls == BUG:
        return Path(out) / "findings"
    return Path(out) / "triaged" / v.triage.cls


def write_finding(root: Path, v: Verdict, *, case: str, passes: list, seed: int, seed_name: str,
                  reply: dict, default_passes: list, extra: dict | None = None) -> tuple[Path, bool]:
    """Write the finding folder under ``root`` (atomically: temp folder + rename); (path, new?)."""
    sig = signature(v)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    dest = root / sig
    if dest.exists():
        return dest, False
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{sig}."))
    try:
        (tmp / "case.tir").write_text(case)
        (tmp / "passes.json").write_text(json.dumps(passes, indent=1))
        (tmp / "default_pipeline.json").write_text(json.dumps(default_passes, indent=1))
        log = [f"kind: {v.kind}", f"message: {v.message}", f"frames: {list(v.frames)}", "",
               "--- detail", v.detail, "", "--- child stderr", reply.get("stderr") or ""]
        (tmp / "log.txt").write_text("\n".join(log))
        res = reply.get("result") or {}
        meta = {"signature": sig, "kind": v.kind, "message": v.message, "normalised": v.normalised,
                "location": v.location, "condition": v.condition, "frames": list(v.frames),
                "blamed_pass": {"index": v.pass_index, "name": v.pass_name},
                "class": v.triage.cls, "reasons": list(v.triage.reasons), "notes": list(v.notes),
                "ub": res.get("ub") or [], "seed": seed, "seed_name": seed_name, "stage": reply.get("stage"),
                "mutators": reply.get("applied"), "versions": versions(), "found_at": time.time(),
                "reduced": False, **(extra or {})}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        (tmp / "reproducer.py").write_text(reproducer_source(
            signature=sig, kind=v.kind, message=v.message, case=case, passes=passes, seed=seed,
            default_passes=default_passes))
        (tmp / "report.md").write_text(report_md(meta, case, passes))
        os.rename(tmp, dest)
    except OSError as e:  # another writer got there first (a non-empty dest): same signature, keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
        if dest.exists():
            return dest, False
        raise e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest, True


def rewrite_reproducer(path: Path) -> None:
    """Regenerate ``reproducer.py`` and ``report.md`` from the folder's files (after a reduction)."""
    path = Path(path)
    meta = json.loads((path / "meta.json").read_text())
    case = (path / "case.tir").read_text()
    passes = json.loads((path / "passes.json").read_text())
    default = json.loads((path / "default_pipeline.json").read_text())
    atomic_write(path / "reproducer.py", reproducer_source(
        signature=meta["signature"], kind=meta["kind"], message=meta["message"], case=case, passes=passes,
        seed=meta["seed"], default_passes=default))
    replay = json.loads((path / "replay.json").read_text()) if (path / "replay.json").exists() else None
    atomic_write(path / "report.md", report_md(meta, case, passes, replay))


def start_replay(path: Path, timeout: float = 120.0) -> subprocess.Popen:
    """Run the finding's reproducer alone (``--report``), in the background: its outcome, plain
    ``tvm.compile``'s, the backtrace (SIGSEGV frames included) and LLVM's version go into
    ``replay.json`` / ``report.md`` at :func:`finish_replay`."""
    env = {**os.environ, "TVM_BACKTRACE": "1", "PYTHONFAULTHANDLER": "1"}
    return subprocess.Popen(["nice", "-n", "5", "timeout", str(int(timeout)), sys.executable, "reproducer.py", "--report"],
                            cwd=path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def finish_replay(path: Path, proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate()
    rc = proc.returncode
    info: dict = {}
    for line in out.splitlines():
        if line.startswith("REPORT "):
            info = json.loads(line[7:])
    sig = -rc if rc < 0 else (rc - 128 if rc > 128 else 0)
    replay = {"returncode": rc, "reproduced": rc not in (0, 124), "timed_out": rc == 124,
              "signal": sig or None, **info, "output": out[-6000:]}
    path = Path(path)
    atomic_write(path / "replay.json", json.dumps(replay, indent=1))
    meta = json.loads((path / "meta.json").read_text())
    atomic_write(path / "report.md", report_md(meta, (path / "case.tir").read_text(),
                                               json.loads((path / "passes.json").read_text()), replay))
    return replay


def replay(path: Path, timeout: float = 120.0) -> dict:
    return finish_replay(path, start_replay(path, timeout))


_EXPECTED = {
    "ill-formed": "the pass keeps a well-formed input well-formed (`s_tir.analysis.verify_well_formed` accepts "
                  "the input and rejects the pass's output)",
    "internal-error": "the pass transforms the well-formed input (run in TVM's documented order) or rejects it "
                      "with a user-facing error, not an internal check",
    "codegen-error": "LLVM code generation accepts the well-formed, fully lowered module",
    "miscompile": "the same output as the reference (NumPy and/or TVM's default pipeline) on a program free of "
                  "undefined behaviour",
    "run-error": "the built function runs as the default pipeline's build does",
    "hang": "the pass terminates",
}


def report_md(meta: dict, case: str, passes: list, replay: dict | None = None) -> str:
    """An upstream-ready report: what, expected vs actual, whether plain tvm.compile is hit,
    the backtrace, versions, the reproducer and a search hint."""
    plist = "\n".join(f"{i}. `{p[0]}` {json.dumps(p[1]) if p[1] else ''}" for i, p in enumerate(passes))
    vers = dict(meta.get("versions") or {})
    if replay and replay.get("llvm"):
        vers["llvm"] = replay["llvm"]
    vers_s = "\n".join(f"- {k}: {v}" for k, v in vers.items() if v)
    kind = meta["kind"]
    blamed = (meta.get("blamed_pass") or {}).get("name") or ""
    if kind.startswith("signal"):
        expected = "the pass returns or raises a Python exception; it must not kill the process"
    else:
        expected = _EXPECTED.get(kind, "no error")
    if replay is None:
        plain = "not checked yet (run `python reproducer.py --report`)"
    elif replay.get("plain_tvm_compile") == "ok":
        plain = "no: plain `tvm.compile(mod, target=\"llvm\")` (the default pipeline) compiles this input"
    elif replay.get("plain_tvm_compile"):
        plain = f"yes: plain `tvm.compile(mod, target=\"llvm\")` fails: `{replay['plain_tvm_compile']}`"
    else:
        plain = "unknown (the reproducer died before the check)"
    if replay is None:
        status = "not replayed alone yet"
    else:
        status = ("reproduces alone" if replay["reproduced"] else "did NOT reproduce alone") + \
            f" (exit status {replay['returncode']}{', signal ' + str(replay['signal']) if replay.get('signal') else ''})"
    trace = (replay or {}).get("output") or meta.get("detail") or ""
    trace = "\n".join(trace.strip().splitlines()[-60:])
    cls = meta.get("class", BUG)
    why = "".join(f"\n- {r}" for r in meta.get("reasons") or [])
    notes = "".join(f"\n- {n}" for n in meta.get("notes") or [])
    cond = meta.get("condition") or ""
    hint = " ".join(x for x in (blamed.split("(")[0], f'"{cond}"' if cond else "") if x)
    return f"""### [{blamed or kind}] {kind}: {meta['message']}

Triage: **{cls}**{why or ' (valid input, passes in the documented order)'}{notes}

**Expected**: {expected}.

**Actual**: {meta['message']}  (failing check at `{meta.get('location') or '?'}`)

**Does plain `tvm.compile` / the default pipeline hit it?** {plain}

**Reproducer** ({status}): `python reproducer.py` in this folder: one self-contained file with the TVMScript
inline, needing only `tvm` and `numpy`; exit status 1 (or death by the signal) when the bug reproduces.

**Pass list** (after `BindTarget` to the case's target, each under `PassContext(opt_level=3)`; an argument `config.X` is that pass's PassContext option `X`):
{plist}

**PrimFunc** (TVMScript):
```python
{case.strip()}
```

**Backtrace** (the reproducer's run{', TVM_BACKTRACE=1 and faulthandler' if replay else ''}):
```
{trace}
```

**Versions**:
{vers_s}

**Search hint**: `{hint}`  (found by `irtools fuzz`, seed {meta['seed']}, from `{meta['seed_name']}`)
"""
