"""Parse + featurisation rate of the cost model's LLVM features (C, ``feature_matrix``), against the
Python reference the tests keep (tests/llvm_feature_reference.py) for scale.

    nice -n 10 .venv/bin/python benchmarks/costmodel_features_speed.py [--programs 20] [--passes 5] [--out DIR]

Fresh modules as the throughput benchmark uses them: generated C programs (seeds far from the
training seeds) compiled by clang-22 under their sampled configurations, plus any ``*.ll`` given on
the command line (TVM modules, say).  Rates are defined functions per CPU second of this process
(``time.process_time``: other jobs on the machine do not count), each the best of ``--passes``
passes (on a shared machine a pass can still lose a third to cache and core contention: more
passes, steadier best).  ``llf_run`` is the C parse + features without the Python glue.
Also counts the rows the C side leaves NaN for a reason (``c_feature_rows``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def fresh_modules(n_programs: int, out: Path, seed0: int = 910_000) -> list[Path]:
    from irtoolkit.costmodel import tools
    from irtoolkit.costmodel.dataset import cgen

    clang = tools.require("clang-22")
    paths = []
    for seed in range(seed0, seed0 + n_programs):
        prog = cgen.generate_program(seed)
        src = out / f"p{seed}.c"
        src.write_text(prog.source)
        for k, (opt, march, unroll) in enumerate(cgen.sample_configs(seed, 2)):
            ll = out / f"p{seed}.{k}.ll"
            flags = [opt, f"-march={march}", *([unroll] if unroll else [])]
            subprocess.run([clang, *flags, "-S", "-emit-llvm", "-fno-ident", str(src), "-o", str(ll)], check=True,
                           capture_output=True)
            paths.append(ll)
    return paths


def best_cpu(fn, passes: int = 3) -> float:
    best = float("inf")
    for _ in range(passes):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("extra", nargs="*", help="more .ll modules (TVM's, say)")
    ap.add_argument("--programs", type=int, default=20)
    ap.add_argument("--passes", type=int, default=5)
    ap.add_argument("--out", help="keep the generated modules here")
    args = ap.parse_args()

    import llvm_feature_reference as R

    import irtools
    from irtoolkit.costmodel import features as F
    from irtools._native import load

    with tempfile.TemporaryDirectory() as td:
        out = Path(args.out or td)
        out.mkdir(parents=True, exist_ok=True)
        paths = fresh_modules(args.programs, out) + [Path(p) for p in args.extra]
        texts = [p.read_text() for p in paths]
    datas = [t.encode() for t in texts]
    mods = [irtools.parse_llvm(d) for d in datas]
    nfun = sum(1 for m in mods for f in m.functions if not f.is_declaration)

    exact = rows = 0
    for d in datas:
        e = F.c_feature_rows(d)[2]
        exact, rows = exact + int(e.sum()), rows + len(e)

    lib, _ffi = load("llparse")
    flib, _ffi = load("llfeatures")
    c_parse = best_cpu(lambda: [lib.llp_free(lib.llp_parse(d, len(d))) for d in datas], args.passes)
    c_run = best_cpu(lambda: [flib.llf_free(flib.llf_run(d, len(d))) for d in datas], args.passes)
    c_feat = best_cpu(lambda: [F.feature_matrix(t) for t in texts], args.passes)
    py_feat = best_cpu(lambda: [R.llvm_module_features(irtools.parse_llvm(t)) for t in texts], passes=1)
    result = {"modules": len(texts), "functions": nfun, "c_rows_exact": exact, "c_rows": rows,
              "llp_parse_functions_per_cpu_s": nfun / c_parse,
              "llf_run_functions_per_cpu_s": nfun / c_run,
              "feature_matrix_functions_per_cpu_s": nfun / c_feat,
              "python_reference_functions_per_cpu_s": nfun / py_feat,
              "speedup_over_python": py_feat / c_feat}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
