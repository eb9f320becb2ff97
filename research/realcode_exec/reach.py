"""Package-wide call graph: does what a function can reach rank its instructions executed per call?

For each built package, every module is parsed; a direct call to a name defined in the same module
(internal linkage first) or defined with external linkage elsewhere in the package is an edge.  For
each function with a suite label: the static size of everything it reaches (each function once).
"""
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

import irtools
from irtoolkit.costmodel.evaluation import kendall_tau
from irtools.analysis.callgraph import UNKNOWN, CallGraph

root = Path(sys.argv[1] if len(sys.argv) > 1 else "/work/data/realcode") / "packages"
allrows = []
for pdir in sorted(root.iterdir()):
    if not (pdir / "executed.parquet").is_file():
        continue
    ex = pq.read_table(pdir / "executed.parquet").to_pylist()
    if not ex:
        continue
    mods = pq.read_table(pdir / "modules.parquet", columns=["ir_sha256", "text"]).to_pylist()
    node = {}            # (sha, name) -> dict
    exported = {}        # name -> key
    for m in mods:
        try:
            mod = irtools.parse_llvm(m["text"])
        except Exception:
            continue
        cg = CallGraph(mod)
        for fn in mod.functions:
            if fn.is_declaration:
                continue
            key = (m["ir_sha256"], fn.name)
            n_inst = sum(1 for _ in fn.instructions())
            callees = cg.callees(fn.name)
            ext = [c for c in callees if c in cg.external]
            node[key] = dict(ir=n_inst, local=[c for c in callees if c not in cg.external and c != UNKNOWN],
                             ext=ext, n_ext_sites=sum(1 for s in cg.calls[fn.name] if s.callee in cg.external),
                             indirect=cg.indirect_call_count(fn.name))
            if fn.linkage in ("external", "", None):
                exported.setdefault(fn.name, key)
    succ = {}
    for key, d in node.items():
        out = [(key[0], c) for c in d["local"] if (key[0], c) in node]
        for c in d["ext"]:
            if c in exported:
                out.append(exported[c])
        succ[key] = out

    def reach(k, succ=succ):
        seen = {k}
        st = [k]
        while st:
            u = st.pop()
            for v in succ.get(u, ()):
                if v not in seen:
                    seen.add(v)
                    st.append(v)
        return seen
    for r in ex:
        key = (r["ir_sha256"], r["function"])
        if key not in node:
            continue
        R = reach(key)
        allrows.append(dict(package=pdir.name, y=r["instructions_executed"] , self_pc=r["self_ir"] / max(r["calls"], 1),
                            own=node[key]["ir"], reach_ir=sum(node[k]["ir"] for k in R), reach_n=len(R),
                            reach_ext=sum(node[k]["n_ext_sites"] for k in R),
                            reach_ind=sum(node[k]["indirect"] for k in R)))
    print(pdir.name, len(ex), file=sys.stderr)

json.dump(allrows, open("/tmp/reach.json", "w"))
col = {c: np.array([r[c] for r in allrows], float) for c in allrows[0] if c != "package"}
y = col["y"]
for c in ["own", "reach_ir", "reach_n", "reach_ext", "reach_ind", "self_pc"]:
    print(c, f"{kendall_tau(col[c], y):+.3f}")
print("own vs self per call", f"{kendall_tau(col['own'], col['self_pc']):+.3f}")
