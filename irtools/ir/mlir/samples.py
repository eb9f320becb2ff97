"""Real MLIR for tests and benchmarks: LLVM IR -> mlir-translate-22 --import-llvm, pretty and generic.

The large input is the import of the LLVM benchmark's module (``benchmarks/_data.py``: the SQLite3MC
amalgamation compiled by clang-22 -O2), cached beside it.  Small inputs come from generated C (loops,
branches, structs, calls, floating point) so that the output has every kind of op the importer makes;
nothing here is MLIR written by hand.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from pathlib import Path

TOOLS = {"clang": "clang-22", "translate": "mlir-translate-22", "opt": "mlir-opt-22"}


def tools_available() -> bool:
    return all(shutil.which(t) for t in TOOLS.values())


def generate_c(n_funcs: int, seed: int = 0) -> str:
    """A C translation unit with ``n_funcs`` varied functions."""
    rng = random.Random(seed)
    out = ["#include <stddef.h>", "struct pt { int x; double y; float z[4]; };",
           "static int g_table[256];", "double g_acc;", "int ext_fn(int);"]
    for i in range(n_funcs):
        k = rng.randrange(6)
        c1, c2 = rng.randrange(1, 97), rng.randrange(2, 31)
        if k == 0:
            out.append(f"""int f{i}(int *a, int n) {{
  int s = {c1};
  for (int j = 0; j < n; ++j) {{ if (a[j] > {c2}) s += a[j] * {c1}; else s ^= a[j] >> 2; }}
  return s + g_table[n & 255];
}}""")
        elif k == 1:
            out.append(f"""double f{i}(const double *x, const double *y, size_t n) {{
  double acc = 0.0;
  for (size_t j = 0; j < n; ++j) acc += x[j] * y[j] + {c1}.5 / (y[j] + 1.0);
  g_acc += acc;
  return acc;
}}""")
        elif k == 2:
            out.append(f"""void f{i}(struct pt *p, int n) {{
  for (int j = 0; j < n; ++j) {{
    p[j].x += {c1}; p[j].y = p[j].y * 0.{c2} + p[j].x;
    for (int q = 0; q < 4; ++q) p[j].z[q] = (float)(p[j].z[q] * {c2}.0f - q);
  }}
}}""")
        elif k == 3:
            out.append(f"""int f{i}(int v) {{
  switch (v & 7) {{
    case 0: return ext_fn(v + {c1});
    case 1: return v * {c2};
    case 2: return v / ({c2} + (v & 1));
    case 3: return g_table[(v * {c1}) & 255];
    default: return v < 0 ? -v : v + {c1};
  }}
}}""")
        elif k == 4:
            out.append(f"""unsigned f{i}(const unsigned char *s, size_t n) {{
  unsigned h = {c1}u;
  while (n--) {{ h = (h << 5) + h + *s++; if (h & 0x80000000u) h ^= {c2}u; }}
  return h;
}}""")
        else:
            out.append(f"""void f{i}(float *restrict o, const float *restrict a, int n, int m) {{
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < m; ++c) {{
      float t = 0.f;
      for (int k = 0; k < {c2}; ++k) t += a[r * m + k] * a[k * m + c];
      o[r * m + c] = t > 0.f ? t : 0.f;
    }}
}}""")
    return "\n".join(out) + "\n"


def llvm_dialect_from_c(c_source: str, workdir: Path) -> tuple[Path, Path]:
    """(pretty, generic) MLIR files of the llvm dialect import of ``c_source``."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    c = workdir / "big.c"
    ll = workdir / "big.ll"
    pretty = workdir / "big.mlir"
    generic = workdir / "big.generic.mlir"
    c.write_text(c_source)
    subprocess.run([TOOLS["clang"], "-O2", "-S", "-emit-llvm", "-g0", str(c), "-o", str(ll)], check=True)
    subprocess.run([TOOLS["translate"], "--import-llvm", str(ll), "-o", str(pretty)], check=True)
    subprocess.run([TOOLS["opt"], "--allow-unregistered-dialect", "--mlir-print-op-generic", str(pretty), "-o",
                    str(generic)], check=True)
    return pretty, generic


def llvm_dialect_from_ll(ll: Path, outdir: Path) -> tuple[Path, Path]:
    """(pretty, generic) MLIR of the llvm dialect import of ``ll``, cached in ``outdir`` next to its stem.

    A cached pair is reused while it is newer than ``ll``; files are written under a temporary name
    and renamed, so parallel test workers never read half a file.
    """
    ll, outdir = Path(ll), Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    pretty = outdir / f"{ll.stem}.mlir"
    generic = outdir / f"{ll.stem}.generic.mlir"
    src_time = ll.stat().st_mtime
    for out, make in ((pretty, lambda tmp: [TOOLS["translate"], "--import-llvm", str(ll), "-o", tmp]),
                      (generic, lambda tmp: [TOOLS["opt"], "--allow-unregistered-dialect",
                                             "--mlir-print-op-generic", str(pretty), "-o", tmp])):
        if out.exists() and out.stat().st_mtime >= src_time:
            continue
        tmp = out.with_name(f"{out.name}.{os.getpid()}.part")
        try:
            subprocess.run(make(str(tmp)), check=True, capture_output=True)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    return pretty, generic
