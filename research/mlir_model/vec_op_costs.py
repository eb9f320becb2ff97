"""Machine instructions of one vector op after the standard lowering and llc-22 -O2 (x86-64, SSE2):
how a super-vectorised body's ops scale with the virtual vector width."""
import json
import tempfile
from pathlib import Path

from irtoolkit.costmodel.dataset.mlirpairs import STANDARD_PIPELINE, lower_and_label

out = {}
with tempfile.TemporaryDirectory() as d:
    wd = Path(d)
    for t in ("f32", "f64"):
        for v in (4, 8, 16):
            vt = f"vector<{v}x{t}>"

            def cost(body, vt=vt):
                src = f"func.func @f(%a: {vt}, %b: {vt}) -> {vt} {{\n{body}\n}}\n"
                return lower_and_label(src, STANDARD_PIPELINE, wd)["f"]["machine_instructions"]
            base = cost(f"  return %a : {vt}")
            for op in ("arith.addf", "arith.mulf", "arith.divf", "arith.minimumf", "arith.maximumf"):
                out[f"{op}:{v}x{t}"] = cost(f"  %r = {op} %a, %b : {vt}\n  return %r : {vt}") - base
print(json.dumps(out, indent=0))
