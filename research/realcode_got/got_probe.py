"""Does the shipped model miss the GOT loads of PIC code?  Residual of .text / machine instructions
against the number of distinct preemptible symbols a function takes the address of (each needs a
`movq sym@GOTPCREL(%rip), %reg` in PIC/PIE code).  python got_probe.py DIR"""
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from irtoolkit.costmodel import load
from irtoolkit.costmodel.dataset.realcode import evaluate as E

LOCAL = {"dso_local", "internal", "private", "hidden", "protected"}
GDEF = re.compile(r"^(@[-\w$.]+|@\"[^\"]*\") = (.*?)\b(global|constant|alias|ifunc)\b", re.M)
FHDR = re.compile(r"^(define|declare) (.*?)(@[-\w$.]+|@\"[^\"]*\")\(", re.M)
REF = re.compile(r"@[-\w$.]+|@\"[^\"]*\"")


def got_counts(text: str) -> dict[str, tuple[int, int]]:
    pre = {}
    for m in GDEF.finditer(text):
        pre[m.group(1)] = ("var", not (LOCAL & set(m.group(2).split())))
    for m in FHDR.finditer(text):
        pre[m.group(3)] = ("fn", not (LOCAL & set(m.group(2).split())))
    out = {}
    for m in re.finditer(r"^define [^\n]*?(@[-\w$.]+|@\"[^\"]*\")\(.*?^}", text, re.M | re.S):
        body = m.group(0).split("{", 1)[1]
        syms, uses = set(), 0
        for line in body.split("\n"):
            callee = re.search(r"\bcall\b[^@]*?(@[-\w$.]+)\(", line)
            for r in REF.findall(line):
                k = pre.get(r)
                if not k or not k[1]:
                    continue
                if k[0] == "fn" and callee and callee.group(1) == r:
                    continue
                syms.add(r)
                uses += 1
        out[m.group(1)[1:].strip('"')] = (len(syms), uses)
    return out


root = Path(sys.argv[1])
R, X = E.load(root)
model = load()
Xm = E._reorder(X, model.feature_names_)
pics = {}
got = {}
for pdir in sorted((root / "packages").iterdir()):
    if not (pdir / "modules.parquet").exists():
        continue
    t = pq.read_table(pdir / "modules.parquet", columns=["ir_sha256", "text"]).to_pylist()
    for m in t:
        pics[m["ir_sha256"]] = ("PIC Level" in m["text"], "PIE Level" in m["text"])
        for fn, c in got_counts(m["text"]).items():
            got[(m["ir_sha256"], fn)] = c
for target in ("text_bytes", "machine_instructions"):
    y = np.array([r.get(target) or np.nan for r in R], dtype=float)
    p, _, _ = model.predict_matrix(Xm, target)
    ok = (y > 0) & (p > 0)
    res = np.log(y / np.where(p > 0, p, 1))
    by = defaultdict(list)
    for i, r in enumerate(R):
        if not ok[i]:
            continue
        k = got.get((r["ir_sha256"], r["function"]))
        if k is None:
            by["?"].append(res[i]); continue
        pic = pics[r["ir_sha256"]]
        tag = ("pic" if pic[0] else "pie" if pic[1] else "static") + f" got={min(k[0], 6)}"
        by[tag].append(res[i])
    print(target)
    for tag in sorted(by):
        v = np.array(by[tag])
        print(f"  {tag:14s} n={len(v):6d} mean log(y/p) {v.mean():+.3f}  MAPE {np.mean(np.abs(np.expm1(-v))):.3f}")
