"""Machine instructions one scalar op costs after the standard lowering and llc-22 -O2: the table
costmodel/mlirlowering.py's OP_COST holds (a function computing the op on its arguments, minus one
returning its first argument)."""
import json
import tempfile
from pathlib import Path

from irtoolkit.costmodel.dataset.mlirpairs import STANDARD_PIPELINE, lower_and_label

BIN_F = ("arith.addf", "arith.subf", "arith.mulf", "arith.divf", "arith.maximumf", "arith.minimumf", "arith.remf")
BIN_I = ("arith.addi", "arith.subi", "arith.muli", "arith.divsi", "arith.divui", "arith.remsi", "arith.remui",
         "arith.andi", "arith.ori", "arith.xori", "arith.shli", "arith.shrsi", "arith.shrui", "arith.maxsi",
         "arith.minsi")
UN_F = ("math.sqrt", "math.exp", "math.absf", "arith.negf", "math.tanh", "math.log")


def cost(body: str, t: str, wd: Path) -> float:
    src = f"func.func @f(%a: {t}, %b: {t}) -> {t} {{\n{body}\n}}\n"
    return lower_and_label(src, STANDARD_PIPELINE, wd)["f"]["machine_instructions"]


out = {}
with tempfile.TemporaryDirectory() as d:
    wd = Path(d)
    for t in ("f32", "f64", "i32", "i64"):
        base = cost(f"  return %a : {t}", t, wd)
        ops = (BIN_F + UN_F) if t.startswith("f") else BIN_I
        for op in ops:
            body = (f"  %r = {op} %a : {t}" if op in UN_F else f"  %r = {op} %a, %b : {t}") + f"\n  return %r : {t}"
            try:
                out[f"{op}:{t}"] = cost(body, t, wd) - base
            except Exception as e:  # noqa: BLE001
                print(op, t, "failed", str(e)[:80])
print(json.dumps(out, indent=0))
