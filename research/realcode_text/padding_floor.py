"""How much of a real function's `.text` size is loop-alignment padding, and the MAPE floor it sets for any model
that reads IR: llc -O2 aligns each loop header to 16 bytes with NOPs, and how many it needs depends on the exact
byte offset of the header, which no static feature of the IR knows.  Each module of the sampled *training*
packages is compiled twice by llc-22 (as the label is, and with -align-loops=1); the difference of the
symbol sizes is the padding.  The floor is the MAPE of an oracle that knows each function's unpadded size
exactly and adds the mean padding per aligned loop header.
python padding_floor.py DIR [packages] [seed]"""
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from irtoolkit.costmodel.dataset.labellers import _FN_BEGIN, _FN_END, symbol_sizes
from irtoolkit.costmodel.dataset.realcode import evaluate as E

root = Path(sys.argv[1])
n_pk = int(sys.argv[2]) if len(sys.argv) > 2 else 12
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 0)
train_pk = sorted(p.name for p in (root / "packages").iterdir()
                  if (p / "modules.parquet").exists() and not E.package_side(p.name))
pkgs = rng.sample(train_pk, min(n_pk, len(train_pk)))
label, unpadded, headers = [], [], []
with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    for pkg in pkgs:
        mods = pq.read_table(root / "packages" / pkg / "modules.parquet").to_pylist()
        for m in mods[:60]:
            ll = tmp / "m.ll"
            ll.write_text(m["text"])
            opt = m.get("opt") or "-O2"
            opt = opt if opt in ("-O0", "-O1", "-O2", "-O3") else "-O2"
            sizes = []
            try:
                for extra in ([], ["-align-loops=1"]):
                    subprocess.run(["llc-22", opt, "-filetype=obj", *extra, str(ll), "-o", str(tmp / "m.o")],
                                   check=True, capture_output=True, timeout=120)
                    sizes.append(symbol_sizes(tmp / "m.o"))
                asm = subprocess.run(["llc-22", opt, str(ll), "-o", "-"], check=True, capture_output=True,
                                     text=True, timeout=120).stdout
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
                continue
            count, fn = {}, None
            for line in asm.splitlines():
                b = _FN_BEGIN.search(line)
                if b:
                    fn, count[b.group(1)] = b.group(1), -1      # the function's own alignment is not padding
                elif _FN_END.search(line):
                    fn = None
                elif fn and line.strip().startswith(".p2align"):
                    count[fn] += 1
            for f, s in sizes[0].items():
                if f in sizes[1] and s > 0 and f in count:
                    label.append(s)
                    unpadded.append(sizes[1][f])
                    headers.append(max(count[f], 0))
        print(pkg, len(label), flush=True)
label, unpadded, headers = np.array(label, float), np.array(unpadded, float), np.array(headers)
pad = label - unpadded
per_header = pad[headers > 0].sum() / max(headers.sum(), 1)
oracle = unpadded + per_header * headers
print(json.dumps({
    "packages": pkgs, "functions": len(label),
    "with_aligned_loop": float((headers > 0).mean()),
    "padding_share_of_bytes": float(pad.sum() / label.sum()),
    "mean_padding_per_header": float(per_header),
    "floor_mape_oracle_plus_mean_padding": float(np.mean(np.abs(oracle - label) / label)),
    "floor_mape_on_functions_with_loops": float(np.mean((np.abs(oracle - label) / label)[headers > 0])),
}, indent=1))
