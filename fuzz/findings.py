"""Findings on disk: one folder per signature, written atomically, each a self-contained report.

``findings/<kind>-<hash>/``: ``case.tir`` (TVMScript), ``passes.json``, ``log.txt``,
``meta.json`` (versions, seed, signature), ``reproducer.py`` (needs only TVM), ``report.md``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from .oracles import Verdict


def signature(v: Verdict) -> str:
    h = hashlib.sha1("\x1f".join([v.kind, v.normalised, *v.frames]).encode()).hexdigest()[:12]
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
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("apache-tvm", "apache-tvm-ffi", "irtools", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


REPRODUCER = r'''#!/usr/bin/env python3
"""Standalone reproducer written by `irtools fuzz` (needs only TVM and NumPy).

Applies the pass list in passes.json to the PrimFunc in case.tir (TVMScript) for an LLVM
target, checks well-formedness, builds, and (for differential findings) runs the result
against TVM's default pipeline on random inputs.  Exits 1 when the finding reproduces.
Expected: {signature}
"""
import json, sys
from pathlib import Path

import numpy as np
import tvm
import tvm_ffi
from tvm import s_tir, tirx
from tvm.tirx.build import split_host_device_mods, tir_to_runtime

HERE = Path(__file__).resolve().parent
KIND = {kind!r}
SEED = {seed}
func = tvm.script.from_source((HERE / "case.tir").read_text())
passes = json.loads((HERE / "passes.json").read_text())
target = tvm.target.Target({{"kind": "llvm"}})
target = target.with_host(target)


def make(name, args):
    ns = tirx.transform if name.startswith("tirx.") else s_tir.transform
    return getattr(ns, name.split(".", 1)[1])(**args)


def lower(pass_list):
    mod = tirx.transform.BindTarget(target)(tvm.IRModule({{"main": func}}))
    for i, (name, args) in enumerate(pass_list):
        print(f"[{{i}}] {{name}} {{args or ''}}", flush=True)
        with tvm.transform.PassContext(opt_level=3):
            mod = make(name, args)(mod)
    return mod


mod = lower(passes)
for gv, f in mod.functions.items():
    if isinstance(f, tirx.PrimFunc):
        s_tir.analysis.verify_well_formed(f)
host, dev = split_host_device_mods(mod)
rt = tir_to_runtime(host, dev, target)
if KIND in ("miscompile", "run-error"):
    from importlib import import_module  # noqa: F401
    default = json.loads((HERE / "default_pipeline.json").read_text())
    dmod = lower(default)
    dh, dd = split_host_device_mods(dmod)
    drt = tir_to_runtime(dh, dd, target)
    rng = np.random.default_rng(SEED)
    args = []
    for p in func.params:
        dt = str(p.dtype)
        shape = [int(s) for s in p.shape]
        if dt.startswith("float"):
            args.append(rng.uniform(-1, 1, size=shape).astype(dt))
        else:
            args.append(rng.integers(0, 100, size=shape).astype(dt))
    def run(m):
        ts = [tvm.runtime.tensor(a.copy()) for a in args]
        m["main"](*ts)
        return [t.numpy() for t in ts]
    ref = run(drt)
    out = run(rt)
    for k, (a, b) in enumerate(zip(out, ref)):
        ok = np.allclose(a, b, rtol=1e-3, atol=1e-4, equal_nan=True) if a.dtype.kind == "f" else np.array_equal(a, b)
        if not ok:
            print(f"MISMATCH in buffer {{k}}: max |diff| = {{np.nanmax(np.abs(a.astype('float64') - b.astype('float64')))}}")
            sys.exit(1)
print("did not reproduce")
sys.exit(0)
'''


def write_finding(root: Path, v: Verdict, *, case: str, passes: list, seed: int, seed_name: str,
                  reply: dict, default_passes: list, extra: dict | None = None) -> tuple[Path, bool]:
    """Write the finding folder (atomically: temp folder + rename); (path, new?)."""
    sig = signature(v)
    dest = Path(root) / sig
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
        meta = {"signature": sig, "kind": v.kind, "message": v.message, "normalised": v.normalised,
                "frames": list(v.frames), "seed": seed, "seed_name": seed_name, "stage": reply.get("stage"),
                "mutators": reply.get("applied"), "versions": versions(), "found_at": time.time(),
                "reduced": False, **(extra or {})}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        (tmp / "reproducer.py").write_text(REPRODUCER.format(signature=sig, kind=v.kind, seed=seed))
        (tmp / "report.md").write_text(report_md(meta, case, passes))
        os.rename(tmp, dest)
    except FileExistsError:  # another writer got there first: same signature, keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
        return dest, False
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest, True


def report_md(meta: dict, case: str, passes: list) -> str:
    plist = "\n".join(f"{i}. `{p[0]}` {json.dumps(p[1]) if p[1] else ''}" for i, p in enumerate(passes))
    vers = ", ".join(f"{k} {v}" for k, v in meta["versions"].items() if v)
    return f"""### {meta['kind']}: {meta['message']}

Found by `irtools fuzz` (seed {meta['seed']}, from `{meta['seed_name']}`), {vers}.

**Pass list** (applied after `BindTarget(llvm)`):
{plist}

**PrimFunc** (TVMScript):
```python
{case.strip()}
```

**What happens**: {meta['message']}
{('Top frames: ' + ' <- '.join(meta['frames'])) if meta['frames'] else ''}

**Reproduce**: `python reproducer.py` in this folder (needs only TVM); it exits non-zero or crashes when the
bug reproduces.
"""
