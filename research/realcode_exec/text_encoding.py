"""What each function's .text is made of: llvm-objdump of llc -O2 objects of 8 modules per TRAINING package,
each instruction put in a kind (jump short/long, call, RIP-relative, stack, other memory, register...) with
its encoding details (REX, displacement and immediate sizes).  Writes /tmp/text_encoding.json.

    python text_encoding.py [CORPUS]
"""
import json, random, re, subprocess, sys, tempfile
from pathlib import Path
import pyarrow.parquet as pq
from irtoolkit.costmodel.dataset.realcode.evaluate import package_side
root = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/data/realcode") / "packages"
pk = sorted(d.name for d in root.iterdir() if (d / "modules.parquet").is_file() and not package_side(d.name))
random.seed(1)
mods = []
for p in pk:
    t = pq.read_table(root / p / "modules.parquet", columns=["ir_sha256", "text", "opt"]).to_pylist()
    random.shuffle(t)
    mods += [(p, m) for m in t[:8]]
print(len(pk), "train packages", len(mods), "modules", file=sys.stderr)
LINE = re.compile(r"^\s*([0-9a-f]+):\s+((?:[0-9a-f]{2} )+)\s*(\S.*)?$")
FN = re.compile(r"^[0-9a-f]+ <(.+)>:$")
out = []
with tempfile.TemporaryDirectory() as td:
    for k, (p, m) in enumerate(mods):
        ll = Path(td, "m.ll"); ll.write_text(m["text"]); o = Path(td, "m.o")
        r = subprocess.run(["llc-22", m["opt"], "-filetype=obj", str(ll), "-o", str(o)], capture_output=True)
        if r.returncode:
            continue
        d = subprocess.run(["llvm-objdump-22", "-d", str(o)], capture_output=True, text=True).stdout
        fn = None
        for line in d.splitlines():
            f = FN.match(line)
            if f:
                fn = {"pkg": p, "sha": m["ir_sha256"], "fn": f.group(1), "n": 0, "bytes": 0, "cat": {}}
                out.append(fn); continue
            mm = LINE.match(line)
            if not mm or fn is None:
                continue
            b = mm.group(2).split(); asm = (mm.group(3) or "").strip()
            mn = asm.split()[0] if asm else "?"
            n = len(b)
            if mn.startswith("nop") or mn == "int3" or (mn.startswith("data16") or mn.startswith("cs")):
                cat = "pad"
            elif mn.startswith("j"):
                cat = ("jcc" if mn != "jmp" else "jmp") + ("_s" if n == 2 else "_l")
                if "*" in asm: cat = "jmpind"
            elif mn.startswith("call"):
                cat = "call"
            elif "(%rip)" in asm:
                cat = "rip"
            elif "%xmm" in asm or "%ymm" in asm:
                cat = "sse"
            elif mn.startswith("push") or mn.startswith("pop"):
                cat = "pushpop"
            elif mn.startswith("ret"):
                cat = "ret"
            elif mn == "movabsq":
                cat = "movabs"
            elif "(%rsp)" in asm or "(%rbp)" in asm:
                cat = "stack"
            elif "(" in asm:
                cat = "mem"
            else:
                cat = "reg"
            if cat == "pad":
                fn.setdefault("held", 0); fn["held"] += n; continue
            if fn.get("held"):
                c = fn["cat"].setdefault("pad", [0, 0]); c[0] += 1; c[1] += fn["held"]; fn["bytes"] += fn["held"]; fn["held"] = 0
            c = fn["cat"].setdefault(cat, [0, 0]); c[0] += 1; c[1] += n
            fn["n"] += 1
            if cat in ("mem", "reg", "stack"):
                sub = fn.setdefault("sub", {})
                j = 0
                while j < len(b) and b[j] in ("66", "f2", "f3", "f0"): j += 1
                rex = j < len(b) and b[j][0] == "4"
                rexw = rex and int(b[j], 16) & 8
                ops = asm.split(None, 1)[1] if " " in asm or "\t" in asm else ""
                dm = re.search(r"(-?0x[0-9a-f]+)?\(%", ops)
                feats = {"rex": rex, "rexw": rexw, "rexr": rex and not rexw,
                         "imm": "$" in ops,
                         "imm32": bool(re.search(r"\$-?0x[0-9a-f]{3,}", ops)),
                         "index": bool(re.search(r"\(%\w*,%", ops)),
                         "op0f": (j + rex) < len(b) and b[j + rex] == "0f"}
                if dm:
                    dv = int(dm.group(1), 16) if dm.group(1) else 0
                    feats["disp0"] = dv == 0
                    feats["disp8"] = 0 < abs(dv) < 128
                    feats["disp32"] = abs(dv) >= 128
                for kk, vv in feats.items():
                    if vv:
                        key = cat + "." + kk
                        sub[key] = sub.get(key, 0) + 1
            fn["bytes"] += n
        if k % 50 == 0:
            print(k, len(out), file=sys.stderr)
json.dump(out, open("/tmp/text_encoding.json", "w"))
