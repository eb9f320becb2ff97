"""A refined analytic estimate of x86-64 machine instructions per LLVM function."""
import sys
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
from irtools.ir.llvm import module as M
from irtools.ir.llvm import types as LT
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2] / "tests"))
from llvm_feature_reference import _const_int, attribute_text  # the Python reference, kept in tests
from proto import callee, live_across

FREE_INTR = ("llvm.lifetime.", "llvm.dbg.", "llvm.assume", "llvm.experimental.noalias.scope.decl",
             "llvm.invariant.", "llvm.sideeffect", "llvm.pseudoprobe", "llvm.var.annotation",
             "llvm.donothing", "llvm.objectsize", "llvm.launder.invariant.group", "llvm.strip.invariant.group",
             "llvm.va_end", "llvm.prefetch", "llvm.expect")
FOLD_USERS = {"add", "sub", "and", "or", "xor", "icmp", "mul", "fadd", "fsub", "fmul", "fdiv", "fcmp"}


def same(a, b):
    return a is b or (getattr(a, "_vid", -1) == getattr(b, "_vid", -2))


def arg_moves(fn, inst):
    fargs = fn.arguments
    try:
        cargs = inst.arguments
    except Exception:
        return 0
    n = 0
    for j, a in enumerate(cargs):
        if isinstance(a, M.Argument):
            if not (j < len(fargs) and same(a, fargs[j])):
                n += 1
        elif isinstance(a, M.Instruction):
            if len(a.users) > 1:
                n += 1
        else:
            n += 1          # constants, globals: a mov/lea
    return n


def est2(fn, terms=None):
    blocks = fn.blocks
    order = {id(b): i for i, b in enumerate(blocks)}
    attrs = attribute_text(fn)
    t = dict.fromkeys(["base", "calls", "tail", "vararg", "ssp", "frame", "csr", "switch", "mem"], 0.0)
    has_alloca_array = False
    has_alloca = False
    nontail = 0
    rets = 0
    callpos = []
    pos = {}
    p = 0
    for bi, b in enumerate(blocks):
        insts = b.instructions
        for k, inst in enumerate(insts):
            pos[id(inst)] = p
            p += 1
            op = inst.opcode
            c = 1.0
            if op in ("call", "invoke"):
                name = callee(inst)
                if name.startswith(FREE_INTR):
                    c = 0
                elif name.startswith("llvm.va_start"):
                    t["vararg"] += 15
                    c = 0
                elif name.startswith(("llvm.memcpy", "llvm.memset", "llvm.memmove")):
                    args = inst.arguments
                    n = _const_int(args[2]) if len(args) > 2 else None
                    if n is not None and n <= 128:
                        c = max(1, (n + 15) // 16) * (1 if name.startswith("llvm.memset") else 2) + (1 if name.startswith("llvm.memset") else 0)
                    else:
                        c = 4
                        nontail += 1
                        callpos.append(p - 1)
                    t["mem"] += c
                elif name.startswith(("llvm.smax", "llvm.smin", "llvm.umax", "llvm.umin", "llvm.abs")):
                    c = 2
                elif name.startswith("llvm.stacksave") or name.startswith("llvm.stackrestore"):
                    c = 1
                elif name.startswith("llvm."):
                    c = 1
                else:
                    mv = arg_moves(fn, inst)
                    nxt = insts[k + 1] if k + 1 < len(insts) else None
                    if nxt is not None and nxt.opcode == "ret" and (not nxt.operands or same(nxt.operands[0], inst)) \
                            and op == "call":
                        c = mv       # + the ret's jmp, counted there
                        t["tail"] += 1
                    else:
                        c = 1 + mv
                        nontail += 1
                        callpos.append(p - 1)
                        if op == "invoke":
                            c += 1
                    t["calls"] += c
            elif op == "getelementptr":
                us = inst.users
                if us and all(u.opcode in ("load", "store") and u.block is b for u in us):
                    c = 0
            elif op in ("trunc", "bitcast", "ptrtoint", "inttoptr", "freeze", "addrspacecast", "phi", "unreachable"):
                c = 0
            elif op == "zext":
                src = inst.operands[0]
                w = getattr(getattr(src, "type", None), "width", None)
                if w == 32 or (isinstance(src, M.Instruction) and src.opcode == "load"):
                    c = 0
            elif op == "sext":
                src = inst.operands[0]
                if isinstance(src, M.Instruction) and src.opcode == "load":
                    c = 0
            elif op in ("icmp", "fcmp"):
                us = inst.users
                if not (len(us) == 1 and us[0].opcode in ("br", "select") and us[0].block is b):
                    c = 2
            elif op == "load":
                us = inst.users
                if len(us) == 1 and us[0].opcode in FOLD_USERS and us[0].block is b:
                    c = 0
            elif op == "alloca":
                has_alloca = True
                if isinstance(inst.allocated_type, LT.ArrayType):
                    has_alloca_array = True
                c = 0
            elif op == "br":
                ops = inst.operands
                if len(ops) == 1:
                    nb = blocks[bi + 1] if bi + 1 < len(blocks) else None
                    if nb is not None and same(ops[0], nb):
                        c = 0
                else:
                    c = 1
            elif op == "switch":
                try:
                    n = len(inst.switch_cases)
                except Exception:
                    n = 4
                c = 2 * n if n <= 3 else 5
                t["switch"] += c
            elif op == "ret":
                rets += 1
            elif op == "select":
                c = 1.5
            elif op in ("udiv", "sdiv", "urem", "srem"):
                if isinstance(inst.operands[1], M.Constant):
                    c = 4
                else:
                    w = getattr(inst.type, "width", 32)
                    c = 10 if w == 64 else 4
            t["base"] += c
    # callee-saved registers for values live across calls (linear layout approximation)
    if callpos:
        cross = live_across(fn, pos, callpos)
        csr = min(6, max(cross))
        t["csr"] = 2 * csr
        if csr % 2 == 0:
            t["frame"] += 2          # push/pop rax or sub/add rsp for 16-byte alignment
    if "sspstrong" in attrs or "sspreq" in attrs or " ssp" in attrs:
        if has_alloca_array or ("sspreq" in attrs and has_alloca):
            t["ssp"] = 6
    if has_alloca and not callpos:
        t["frame"] += 2
    total = sum(t.values())
    if terms is not None:
        terms.update(t)
    return total
