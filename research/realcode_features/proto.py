"""Prototype extra lowering features on the real-code corpus; cross-validated by package."""
import sys, json, hashlib, time
from pathlib import Path
import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
import irtools
from irtools.ir.llvm import module as M
from irtoolkit.costmodel.dataset.realcode import evaluate as E
from irtoolkit.costmodel.features import FEATURE_NAMES

FREE_INTR = ("llvm.lifetime.", "llvm.dbg.", "llvm.assume", "llvm.experimental.noalias.scope.decl",
             "llvm.invariant.", "llvm.sideeffect", "llvm.pseudoprobe", "llvm.var.annotation",
             "llvm.donothing", "llvm.objectsize", "llvm.launder.invariant.group", "llvm.strip.invariant.group")
BIN = {"add", "sub", "and", "or", "xor", "icmp", "mul"}
EXTRA = ["p.tail_calls", "p.call_args", "p.free_intr", "p.gep_folded", "p.free_casts", "p.cmp_fused",
         "p.load_fold", "p.br_fallthrough", "p.stack_args", "p.zext_i1", "p.switch_cases", "p.ret_void",
         "p.est", "p.calls_real", "p.const_stores", "p.empty_blocks", "p.moved_args", "p.tail_passthrough",
         "p.minmax_intr", "p.fsh_intr", "p.unfused_cmp", "p.selects", "p.live_across_max", "p.live_across_sum",
         "p.csr_est", "p.div_const", "p.big_consts", "p.nontail_calls", "p.rets_with_calls"]


def callee(inst):
    try:
        c = inst.callee
    except Exception:
        return ""
    n = getattr(c, "name", None)
    return n or ""


def live_across(fn, pos, calls):
    """How many values are live across each call (``calls``: positions in ``pos``'s linear layout)."""
    import bisect
    cross = [0] * len(calls)
    vals = [(pos[id(i)], i) for b in fn.blocks for i in b.instructions]
    vals += [(-1, a) for a in fn.arguments]
    for d, v in vals:
        try:
            us = v.users
        except Exception:
            continue
        if not us:
            continue
        last = max(pos.get(id(u), d) for u in us)
        for j in range(bisect.bisect_right(calls, d), bisect.bisect_left(calls, last)):
            cross[j] += 1
    return cross


def fn_extra(fn):
    x = dict.fromkeys(EXTRA, 0.0)
    blocks = fn.blocks
    nxt = {id(b): (blocks[i + 1] if i + 1 < len(blocks) else None) for i, b in enumerate(blocks)}
    est = 0.0
    for b in blocks:
        insts = b.instructions
        nonphi = [i for i in insts if i.opcode != "phi"]
        if len(nonphi) == 1 and nonphi[0].opcode == "br":
            x["p.empty_blocks"] += 1
        for k, inst in enumerate(insts):
            op = inst.opcode
            cost = 1.0
            if op == "call" or op == "invoke":
                name = callee(inst)
                if name.startswith(FREE_INTR):
                    x["p.free_intr"] += 1
                    cost = 0
                else:
                    try:
                        nargs = len(inst.arguments)
                    except Exception:
                        nargs = 0
                    if name.startswith(("llvm.smax", "llvm.smin", "llvm.umax", "llvm.umin", "llvm.abs")):
                        x["p.minmax_intr"] += 1
                        cost = 2
                    elif name.startswith(("llvm.fshl", "llvm.fshr", "llvm.bswap", "llvm.ctlz", "llvm.cttz")):
                        x["p.fsh_intr"] += 1
                        cost = 1
                    if not name.startswith("llvm."):
                        fargs = fn.arguments
                        try:
                            cargs = inst.arguments
                        except Exception:
                            cargs = []
                        moved = sum(1 for j, a in enumerate(cargs)
                                    if not (j < len(fargs) and (a is fargs[j] or getattr(a, "_vid", -1) == getattr(fargs[j], "_vid", -2))))
                        x["p.moved_args"] += moved
                        x["p.calls_real"] += 1
                        x["p.call_args"] += nargs
                        x["p.stack_args"] += max(0, nargs - 6)
                        cost = 1 + moved
                        if k + 1 < len(insts) and insts[k + 1].opcode == "ret":
                            r = insts[k + 1]
                            ops = r.operands
                            if not ops or ops[0] is inst or getattr(ops[0], "_vid", None) == getattr(inst, "_vid", -2):
                                x["p.tail_calls"] += 1
                                if moved == 0:
                                    x["p.tail_passthrough"] += 1
                                cost -= 1
            elif op == "getelementptr":
                us = inst.users
                if us and all(u.opcode in ("load", "store") and u.block is b for u in us):
                    x["p.gep_folded"] += 1
                    cost = 0
            elif op in ("trunc", "bitcast", "ptrtoint", "inttoptr", "freeze", "addrspacecast"):
                x["p.free_casts"] += 1
                cost = 0
            elif op == "zext":
                src = inst.operands[0]
                t = getattr(src, "type", None)
                if getattr(t, "width", None) == 1:
                    x["p.zext_i1"] += 1
            elif op in ("icmp", "fcmp"):
                us = inst.users
                if len(us) == 1 and us[0].opcode in ("br", "select") and us[0].block is b:
                    x["p.cmp_fused"] += 1
                else:
                    x["p.unfused_cmp"] += 1
                    cost = 2
            elif op == "load":
                us = inst.users
                if len(us) == 1 and us[0].opcode in BIN and us[0].block is b:
                    x["p.load_fold"] += 1
                    cost = 0
            elif op == "store":
                v = inst.operands[0]
                if isinstance(v, M.Constant):
                    x["p.const_stores"] += 1
            elif op == "br":
                ops = inst.operands
                if len(ops) == 1 and ops[0] is nxt[id(b)]:
                    x["p.br_fallthrough"] += 1
                    cost = 0
                elif len(ops) == 1:
                    tgt = ops[0]
                    if getattr(tgt, "_vid", None) is not None and nxt[id(b)] is not None and \
                            getattr(nxt[id(b)], "_vid", None) == tgt._vid:
                        x["p.br_fallthrough"] += 1
                        cost = 0
            elif op == "switch":
                try:
                    x["p.switch_cases"] += len(inst.switch_cases)
                except Exception:
                    pass
            elif op == "ret":
                if not inst.operands:
                    x["p.ret_void"] += 1
            elif op == "phi":
                cost = 0
            elif op == "select":
                x["p.selects"] += 1
                cost = 2
            est += cost
    # values live across a (non-tail) call need callee-saved registers: push + pop each, in a linear
    # layout approximation
    pos = {}
    p = 0
    calls = []
    for b in blocks:
        for inst in b.instructions:
            pos[id(inst)] = p
            if inst.opcode in ("call", "invoke") and not callee(inst).startswith("llvm."):
                calls.append(p)
            p += 1
            if inst.opcode in ("udiv", "sdiv", "urem", "srem"):
                if isinstance(inst.operands[1], M.Constant):
                    x["p.div_const"] += 1
            for o in inst.operands:
                if isinstance(o, M.Constant):
                    try:
                        v = int(str(o).split()[-1])
                        if abs(v) > 2**31:
                            x["p.big_consts"] += 1
                    except Exception:
                        pass
    ntail = len(calls) - x["p.tail_calls"]
    x["p.nontail_calls"] = max(0, ntail)
    if calls:
        cross = live_across(fn, pos, calls)
        x["p.live_across_max"] = max(cross)
        x["p.live_across_sum"] = sum(cross)
        x["p.csr_est"] = min(6, max(cross))
        nret = sum(1 for b in blocks for i in b.instructions if i.opcode == "ret")
        x["p.rets_with_calls"] = nret
    x["p.est"] = est + 2 * x["p.csr_est"] * max(1, x["p.rets_with_calls"]) / max(1, x["p.rets_with_calls"]) + 3 * x["p.div_const"]
    return x


def package_extra(pdir: Path, rows):
    cache = pdir / "proto-extra.npz"
    if cache.is_file():
        z = np.load(cache)
        if len(z["X"]) == len(rows):
            return z["X"]
    mods = pq.read_table(pdir / "modules.parquet", columns=["ir_sha256", "text"]).to_pylist()
    by = {}
    for m in mods:
        try:
            mod = irtools.parse_llvm(m["text"])
        except Exception as e:
            continue
        for fn in mod.functions:
            if fn.is_declaration:
                continue
            try:
                by[(m["ir_sha256"], fn.name)] = fn_extra(fn)
            except Exception as e:
                print("ERR", pdir.name, fn.name, e, file=sys.stderr)
    X = np.full((len(rows), len(EXTRA)), np.nan)
    for i, r in enumerate(rows):
        v = by.get((r["ir_sha256"], r["function"]))
        if v is not None:
            X[i] = [v[k] for k in EXTRA]
    np.savez(cache, X=X)
    return X


def load_all(root):
    root = Path(root)
    dirs = sorted(d for d in (root / "packages").iterdir() if (d / "functions.parquet").is_file())
    R, XS, XE = [], [], []
    for d in dirs:
        rows, X = E._package_features(d)
        Xe = package_extra(d, rows)
        ok = ~np.isnan(X).all(axis=1) & ~np.isnan(Xe).all(axis=1)
        R += [r for r, k in zip(rows, ok) if k]
        XS.append(X[ok]); XE.append(Xe[ok])
    return R, np.vstack(XS), np.vstack(XE)


if __name__ == "__main__":
    t0 = time.time()
    R, X, Xe = load_all(sys.argv[1])
    print("rows", len(R), "pkgs", len({r["package"] for r in R}), f"{time.time()-t0:.0f}s")
    np.savez("all.npz", X=X, Xe=Xe)
    json.dump([{k: r[k] for k in ("package", "function", "function_sha", "machine_instructions", "text_bytes",
                                   "spills", "ir_sha256", "opt", "lang")} for r in R],
              open("rows.json", "w"))
