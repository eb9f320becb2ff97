"""Source-level pairs for the MLIR cost model: (high-level MLIR function, lowering pipeline) → labels of
the lowered code.

:mod:`irtoolkit.costmodel.dataset.mlirgen` stores only the lowered LLVM IR; a model that is to price MLIR *before*
lowering needs the MLIR text and the pipeline as its input.  Each row here is one ``func.func`` of a
generated program under one pipeline, with the static labels llc-22 gives the lowered function
(machine instructions, ``.text`` bytes, spills, reloads, stack bytes).

Programs mix ``mlirgen``'s families (memref matmul, element-wise and reduction generics, convolutions,
affine stencils) with families on tensors and with dynamic shapes: fused chains (fill → matmul →
bias+ReLU generic) and element-wise chains on tensors, batch matmuls, transposes, and element-wise
generics on ``memref<?x?>``.  Tensors are bufferised by the pipeline (``one-shot-bufferize``), so one
pipeline family serves both.

The build is resumable: one JSON-lines shard per block of programs, written atomically; a shard that
exists is not rebuilt.  Rejected lowerings (mlir-opt-22 crashes on some tile × vector × unroll
combinations) are recorded in the shard's ``.errors.json``, never lost silently.

    python -m irtoolkit.costmodel.dataset.mlirpairs build build/mlirpairs --programs 200 --configs 10
    python -m irtoolkit.costmodel.dataset.mlirpairs ranking build/mlirrank --programs 10 --configs 20
    python -m irtoolkit.costmodel.dataset.mlirpairs corpus build/mlircorpus
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

from . import mlirgen
from .cgen import _pick
from .labellers import LabelError, LlcStaticLabeller

# Tensors are bufferised first (a no-op on memref input); the rest is mlirgen's lowering.
BUFFERIZE = ("one-shot-bufferize{bufferize-function-boundaries=1 "
             "function-boundary-type-conversion=identity-layout-map}")
STATIC_TARGETS = ("machine_instructions", "text_bytes", "spills", "reloads", "stack_bytes")


def pipeline(cfg: dict) -> str:
    """The ``mlir-opt --pass-pipeline`` string of a tile/vector/unroll configuration."""
    inner = mlirgen.pipeline(cfg)[len("builtin.module("):]
    return f"builtin.module({BUFFERIZE},{inner}"


#: The documented standard CPU lowering (``irtools cost FILE.mlir`` without ``--pipeline``): bufferise,
#: linalg → affine loops, no tiling, vectorisation or unrolling, then affine/scf/cf/vector/memref/arith/
#: math/func → llvm.
STANDARD_PIPELINE = pipeline(mlirgen.BASELINE)


# ----------------------------------------------------------------------------- extra families

def _tt(shape: tuple[int, ...], t: str) -> str:
    return f"tensor<{'x'.join(map(str, shape))}x{t}>"


_ID2 = "affine_map<(d0, d1) -> (d0, d1)>"
_EW = ("arith.addf", "arith.mulf", "arith.subf", "arith.maximumf")


def _chain(rng, name: str, t: str) -> str:
    """A fused chain on tensors: fill → matmul → bias + activation generic, returning a tensor."""
    m, n, k = (_pick(rng, (8, 16, 24, 32, 48, 64)) for _ in range(3))
    a, b, c = _tt((m, k), t), _tt((k, n), t), _tt((m, n), t)
    act = _pick(rng, ("arith.maximumf", "arith.minimumf", "arith.mulf"))
    return (f"  func.func @{name}(%A: {a}, %B: {b}, %bias: {c}) -> {c} {{\n"
            f"    %z = arith.constant 0.000000e+00 : {t}\n"
            f"    %e = tensor.empty() : {c}\n"
            f"    %f = linalg.fill ins(%z : {t}) outs(%e : {c}) -> {c}\n"
            f"    %m = linalg.matmul ins(%A, %B : {a}, {b}) outs(%f : {c}) -> {c}\n"
            f"    %r = linalg.generic {{indexing_maps = [{_ID2}, {_ID2}, {_ID2}], "
            f"iterator_types = [\"parallel\", \"parallel\"]}}\n"
            f"        ins(%m, %bias : {c}, {c}) outs(%e : {c}) {{\n"
            f"    ^bb0(%x: {t}, %y: {t}, %o: {t}):\n"
            f"      %s = arith.addf %x, %y : {t}\n"
            f"      %v = {act} %s, %z : {t}\n"
            f"      linalg.yield %v : {t}\n"
            f"    }} -> {c}\n    return %r : {c}\n  }}\n")


def _tensor_ew(rng, name: str, t: str) -> str:
    """Two element-wise generics on tensors, the second reading the first (a producer-consumer chain)."""
    shape = (_pick(rng, (16, 32, 64, 100, 128)), _pick(rng, (8, 16, 32, 64)))
    tt = _tt(shape, t)
    ops = [_pick(rng, _EW) for _ in range(2)]
    body = []
    for j, (x, op) in enumerate(zip(("%X", "%g0"), ops, strict=True)):
        body.append(f"    %g{j} = linalg.generic {{indexing_maps = [{_ID2}, {_ID2}, {_ID2}], "
                    f"iterator_types = [\"parallel\", \"parallel\"]}}\n"
                    f"        ins({x}, %Y : {tt}, {tt}) outs(%e : {tt}) {{\n"
                    f"    ^bb0(%a: {t}, %b: {t}, %o: {t}):\n"
                    f"      %s = {op} %a, %b : {t}\n      linalg.yield %s : {t}\n    }} -> {tt}\n")
    return (f"  func.func @{name}(%X: {tt}, %Y: {tt}) -> {tt} {{\n    %e = tensor.empty() : {tt}\n"
            + "".join(body) + f"    return %g1 : {tt}\n  }}\n")


def _batch_matmul(rng, name: str, t: str) -> str:
    b, m, n, k = _pick(rng, (2, 4, 8)), *(_pick(rng, (8, 16, 24, 32)) for _ in range(3))
    a, bb, c = mlirgen._mr((b, m, k), t), mlirgen._mr((b, k, n), t), mlirgen._mr((b, m, n), t)
    return (f"  func.func @{name}(%A: {a}, %B: {bb}, %C: {c}) {{\n"
            f"    linalg.batch_matmul ins(%A, %B : {a}, {bb}) outs(%C : {c})\n    return\n  }}\n")


def _transpose(rng, name: str, t: str) -> str:
    r, c = _pick(rng, (16, 32, 64, 100, 128)), _pick(rng, (16, 32, 64, 128))
    a, o = mlirgen._mr((r, c), t), mlirgen._mr((c, r), t)
    return (f"  func.func @{name}(%A: {a}, %O: {o}) {{\n"
            f"    linalg.transpose ins(%A : {a}) outs(%O : {o}) permutation = [1, 0]\n    return\n  }}\n")


def _dynamic_ew(rng, name: str, t: str) -> str:
    mr = f"memref<?x?x{t}>"
    op = _pick(rng, _EW)
    n_in = int(rng.integers(1, 3))
    args = [f"%I{i}" for i in range(n_in)]
    maps = ", ".join([_ID2] * (n_in + 1))
    rhs = "%a1" if n_in == 2 else "%a0"
    return (f"  func.func @{name}({', '.join(f'{x}: {mr}' for x in args)}, %O: {mr}) {{\n"
            f"    linalg.generic {{indexing_maps = [{maps}], iterator_types = [\"parallel\", \"parallel\"]}}\n"
            f"        ins({', '.join(args)} : {', '.join([mr] * n_in)}) outs(%O : {mr}) {{\n"
            f"    ^bb0({', '.join(f'%a{i}: {t}' for i in range(n_in))}, %o: {t}):\n"
            f"      %s = {op} %a0, {rhs} : {t}\n      linalg.yield %s : {t}\n    }}\n    return\n  }}\n")


def _scf_loops(rng, name: str, t: str) -> str:
    """A hand-written ``scf.for`` nest (1-2 deep) over memrefs: an axpy-like update with 1-3 ops."""
    rank = int(rng.integers(1, 3))
    shape = (_pick(rng, (16, 32, 64, 100)),) * rank if rank == 1 else \
        (_pick(rng, (8, 16, 32, 64)), _pick(rng, (16, 32, 64, 128)))
    mr = mlirgen._mr(shape, t)
    ivs = [f"%i{d}" for d in range(rank)]
    lines = [f"  func.func @{name}(%X: {mr}, %Y: {mr}) {{", "    %c0 = arith.constant 0 : index",
             "    %c1 = arith.constant 1 : index", f"    %a = {mlirgen._const(float(rng.integers(1, 9)) / 4, t)}"]
    for d, n in enumerate(shape):
        lines.append(f"    %n{d} = arith.constant {n} : index")
    for d, iv in enumerate(ivs):
        lines.append(f"{'  ' * (d + 2)}scf.for {iv} = %c0 to %n{d} step %c1 {{")
    ind = "  " * (rank + 2)
    idx = ", ".join(ivs)
    lines += [f"{ind}%x = memref.load %X[{idx}] : {mr}", f"{ind}%y = memref.load %Y[{idx}] : {mr}"]
    body, cur = mlirgen.op_chain(rng, _EW, "%x", ("%a", "%y", "%x"), t, ind, 4)
    lines += body
    lines.append(f"{ind}memref.store {cur}, %Y[{idx}] : {mr}")
    for d in reversed(range(rank)):
        lines.append(f"{'  ' * (d + 2)}}}")
    lines += ["    return", "  }"]
    return "\n".join(lines) + "\n"


GEN = {**mlirgen._GEN, "scf_loops": _scf_loops, "chain": _chain, "tensor_elementwise": _tensor_ew, "batch_matmul": _batch_matmul,
       "transpose": _transpose, "dynamic_elementwise": _dynamic_ew}
FAMILIES = tuple(GEN)


def _scalar(rng, name: str, t: str) -> str:
    """Small scalar functions like most of the corpus's test functions: a few arith ops on arguments,
    sometimes under an ``scf.if``, returning a value."""
    it = _pick(rng, ("i32", "i64", t))
    fl = it.startswith("f")
    ops = ("arith.addf", "arith.mulf", "arith.subf", "arith.divf") if fl else \
        ("arith.addi", "arith.muli", "arith.subi", "arith.andi", "arith.xori", "arith.shli", "arith.divsi")
    n_args = int(rng.integers(1, 4))
    vals = [f"%a{i}" for i in range(n_args)]
    lines = [f"  func.func @{name}({', '.join(f'{v}: {it}' for v in vals)}) -> {it} {{"]
    for j in range(int(rng.integers(0, 6))):
        lines.append(f"    %v{j} = {_pick(rng, ops)} {_pick(rng, vals)}, {_pick(rng, vals)} : {it}")
        vals.append(f"%v{j}")
    res = vals[-1]
    if rng.random() < 0.4:
        cmp = f"arith.cmpf olt, {vals[0]}, {res} : {it}" if fl else f"arith.cmpi slt, {vals[0]}, {res} : {it}"
        lines += [f"    %c = {cmp}", f"    %r = scf.if %c -> ({it}) {{",
                  f"      %x = {ops[0]} {res}, {vals[0]} : {it}", f"      scf.yield %x : {it}",
                  "    } else {", f"      scf.yield {vals[0]} : {it}", "    }"]
        res = "%r"
    lines += [f"    return {res} : {it}", "  }"]
    return "\n".join(lines) + "\n"


GEN["scalar"] = _scalar
#: the families of the second, small-function set (``build --families small``)
SMALL_FAMILIES = ("scalar", "scalar", "scf_loops", "elementwise", "dynamic_elementwise")
LINALG_FAMILIES = tuple(f for f in FAMILIES if f not in ("stencil", "scf_loops"))


def generate(seed: int, *, kernels: int | None = None, families: tuple[str, ...] = FAMILIES) -> mlirgen.Program:
    """One program of 1-3 kernels (``kernels`` fixes the count) drawn from ``families``."""
    rng = np.random.default_rng([seed, 0x50414952])
    prog = mlirgen.Program(name=f"mlirpair_{seed:06d}", seed=seed)
    for i in range(kernels or int(rng.integers(1, 4))):
        fam = _pick(rng, families)
        t = "f32" if rng.random() < 0.7 else "f64"
        name = f"{fam}_{i}"
        prog.kernels.append(mlirgen.Kernel(name=name, family=fam, source=GEN[fam](rng, name, t)))
    return prog


# ----------------------------------------------------------------------------- lowering and labels

def lower_and_label(source: str, pipe: str, workdir: Path) -> dict[str, dict[str, float]]:
    """Function name → static labels of ``source`` lowered by ``pipe`` (mlir-opt-22, mlir-translate-22,
    llc-22 -O2 with remarks, llvm-nm-22); ``LabelError`` with the tool's reason when a step fails."""
    ll = mlirgen.lower_pipeline(source, pipe, workdir)
    labels, _ = LlcStaticLabeller().label(ll, workdir)
    return labels.values


_CT = {"f32": "float", "f64": "double", "i32": "int", "i64": "long long", "index": "long long", "i8": "signed char",
       "i16": "short", "i1": "_Bool"}
DYNAMIC_DIM = 48          # the size a harness gives each ``?`` dimension


def _c_params(t) -> tuple | None:
    """(C parameter declarations, C argument expressions) of one MLIR argument type after lowering
    (a memref expands to allocated, aligned, offset, sizes, strides), or None when unsupported."""
    from irtools.ir.mlir import attrs as A

    if isinstance(t, (A.MemRefType, A.RankedTensorType)):
        ct = _CT.get(str(t.element_type))
        if ct is None:
            return None
        shape = [DYNAMIC_DIM if d is None else d for d in t.shape]
        n = max(math_prod(shape), 1)
        strides = [math_prod(shape[k + 1:]) for k in range(len(shape))]
        decl = [f"{ct} *", f"{ct} *", "long long"] + ["long long"] * (2 * len(shape))
        buf = f"({ct} *)buf({n}, sizeof({ct}), {int(ct in ('float', 'double'))})"
        return decl, ["__B__", "__B__", "0", *map(str, shape), *map(str, strides)], buf
    ct = _CT.get(str(t))
    if ct is None:
        return None
    return [ct], ["3"], None


def math_prod(xs) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


def harness_c(source: str) -> str | None:
    """A C ``main`` calling every function of ``source`` once through the lowered calling convention
    (memref descriptors expanded, tensors as their bufferised memrefs; memref results come back as a
    returned descriptor struct), each call alone in callgrind's collection and dumped under its name;
    None if a signature has a type the harness cannot pass."""
    import irtools

    from ..features import _function_like

    mod = irtools.parse_mlir(source)
    decls, calls = [], []
    for op in mod.walk():
        if not _function_like(op) or op.name != "func.func":
            continue
        name = op.sym_name
        args = op.regions[0].blocks[0].arguments
        params, exprs, setup = [], [], []
        for k, a in enumerate(args):
            r = _c_params(a.type)
            if r is None:
                return None
            if len(r) == 3:
                decl, ex, buf = r
                setup.append(f"    void *p{k} = {buf};")
                ex = [e.replace("__B__", f"p{k}") for e in ex]
            else:
                decl, ex = r
            params += decl
            exprs += ex
        tt = op.type_text or op.text.split("{", 1)[0]
        res = tt.split("->", 1)[1].strip() if "->" in tt else ""
        if not res:
            ret = "void"
        elif "tensor<" in res or "memref<" in res:
            if res.count("<") != 1:
                return None
            rank = res.count("x")
            ret = f"struct {{ void *a, *b; long long off, sz[{max(rank, 1)}], st[{max(rank, 1)}]; }}"
        else:
            ret = _CT.get(res.strip("() "))
            if ret is None:
                return None
        plist = ", ".join(params) or "void"
        if ret.startswith("struct"):
            decls += [f"typedef {ret} ret_{name};", f"ret_{name} {name}({plist});"]
        else:
            decls.append(f"{ret} {name}({plist});")
        call = f"{name}({', '.join(exprs)})"
        if ret.startswith("struct"):
            call = f"{{ ret_{name} r = {call}; sink += (double)(long long)r.b; }}"
        elif ret != "void":
            call = f"sink += (double){call};"
        else:
            call = f"{call};"
        calls.append("  {\n" + "\n".join(setup) + f"\n    CALLGRIND_TOGGLE_COLLECT;\n    {call}\n"
                     f"    CALLGRIND_TOGGLE_COLLECT;\n    CALLGRIND_DUMP_STATS_AT(\"{name}\");\n  }}")
    if not calls:
        return None
    return "\n".join([
        "#include <stdio.h>", "#include <stdlib.h>", "#include <valgrind/callgrind.h>", "",
        *decls, "", "static void *sink_ret;",
        "static void *buf(long long n, size_t size, int fl) {",
        "  char *p = aligned_alloc(64, ((n * size + 63) / 64) * 64);",
        "  for (long long i = 0; i < n; i++) {",
        "    if (fl && size == 4) ((float *)p)[i] = 1.0f + (float)(i % 7) * 0.25f;",
        "    else if (fl) ((double *)p)[i] = 1.0 + (double)(i % 7) * 0.25;",
        "    else for (size_t b = 0; b < size; b++) p[i * size + b] = (char)(1 + i % 5);",
        "  }", "  return p;", "}", "",
        "int main(void) {", "  volatile double sink = 0;", "  CALLGRIND_START_INSTRUMENTATION;",
        *calls, "  printf(\"%g %p\\n\", (double)sink, sink_ret);", "  return 0;", "}", ""])


def function_names(source: str) -> list[str]:
    return re.findall(r"func\.func\s+(?:private\s+)?@([\w$.]+)\s*\(", source)


def dynamic_labels(source: str, workdir: Path) -> dict[str, float]:
    """Function name → instructions executed by one call of the lowered function (the object
    :func:`lower_and_label` left in ``workdir``), counted by callgrind around each call of a
    generated C harness (:func:`harness_c`).  ``LabelError`` when there is no harness or it fails."""
    from .labellers import CallgrindLabeller

    c = harness_c(source)
    if c is None:
        raise LabelError("no harness: a signature has a type the harness cannot pass")
    (workdir / "harness.c").write_text(c)
    got = CallgrindLabeller(timeout=120).label(workdir / "prog.o", workdir / "harness.c", workdir)
    return {fn: v["instructions_executed"] for fn, v in got.values.items()}


def program_rows(prog: mlirgen.Program, cfgs: list[dict], workdir: Path, *, want: int | None = None,
                 dynamic: bool = False) -> tuple[list[dict], list[str]]:
    """Rows of ``prog`` under each configuration; with ``want``, stop after that many lowered;
    ``dynamic``: also instructions executed (callgrind, :func:`dynamic_labels`)."""
    rows, errors, done = [], [], 0
    fams = {k.name: k.family for k in prog.kernels}
    src = prog.source
    for cfg in cfgs:
        if want is not None and done >= want:
            break
        pipe = pipeline(cfg)
        try:
            labels = lower_and_label(src, pipe, workdir)
        except LabelError as e:
            errors.append(f"{prog.name} {json.dumps(cfg, sort_keys=True)}: {e}")
            continue
        done += 1
        dyn: dict[str, float] = {}
        if dynamic:
            try:
                dyn = dynamic_labels(src, workdir)
            except LabelError as e:
                errors.append(f"{prog.name} {json.dumps(cfg, sort_keys=True)}: instructions executed: {e}")
        for fn, fam in fams.items():
            if fn in labels:
                lab = {t: labels[fn][t] for t in STATIC_TARGETS if t in labels[fn]}
                if fn in dyn and "?x" not in next(k.source for k in prog.kernels if k.name == fn):
                    # (with dynamic shapes the count is of the harness's DYNAMIC_DIM sizes: not kept)
                    lab["instructions_executed"] = dyn[fn]
                rows.append({"program": prog.name, "seed": prog.seed, "function": fn, "family": fam,
                             "config": cfg, "pipeline": pipe, "source": src, "labels": lab})
    return rows, errors


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def build(out: str | os.PathLike, *, programs: int, configs: int, first_seed: int = 0, per_shard: int = 10,
          kernels: int | None = None, families: tuple[str, ...] = FAMILIES, progress: bool = True,
          exact: bool = False, dynamic: bool = False) -> dict:
    """Build (or resume) a pair dataset of ``programs`` programs × ``configs`` pipelines under ``out``.

    ``exact``: draw up to four times as many configurations and keep the first ``configs`` that lower, so
    that every program has exactly ``configs`` pipelines (the ranking set)."""
    from .. import tools

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"generator": "irtoolkit.costmodel.dataset.mlirpairs", "first_seed": first_seed, "programs": programs,
            "configs": configs, "kernels": kernels, "families": list(families), "dynamic": dynamic,
            "tools": {t: tools.version(t) for t in ("mlir-opt-22", "mlir-translate-22", "llc-22", "llvm-nm-22")},
            "targets": list(STATIC_TARGETS)}
    _write_atomic(out / "meta.json", json.dumps(meta, indent=1) + "\n")

    def rows_of(seed: int, tmp: Path) -> tuple[list[dict], list[str]]:
        prog = generate(seed, kernels=kernels, families=families)
        cands = mlirgen.lowerings(seed, 4 * configs if exact else configs)
        return program_rows(prog, cands, tmp, want=configs if exact else None, dynamic=dynamic)
    return write_shards(out, range(first_seed, first_seed + programs), per_shard, rows_of, progress=progress)


def write_shards(out: Path, seeds: range, per_shard: int, rows_of, *, progress: bool = True) -> dict:
    """The resumable loop every pair builder shares: one JSON-lines shard per ``per_shard`` seeds (a shard
    that exists is kept), its rejected lowerings beside it in ``.errors.json``, both written atomically;
    ``rows_of(seed, scratch folder)`` gives a program's (rows, errors)."""
    n_rows, n_err = 0, 0
    with tempfile.TemporaryDirectory(prefix="mlirpairs-") as tmp:
        for s0 in range(seeds.start, seeds.stop, per_shard):
            shard = out / f"shard_{s0:06d}.jsonl"
            if shard.exists():
                n_rows += sum(1 for _ in shard.open())
                continue
            rows, errors = [], []
            for seed in range(s0, min(s0 + per_shard, seeds.stop)):
                r, e = rows_of(seed, Path(tmp))
                rows += r
                errors += e
            _write_atomic(out / f"shard_{s0:06d}.errors.json", json.dumps(errors, indent=1) + "\n")
            _write_atomic(shard, "".join(json.dumps(r) + "\n" for r in rows))
            n_rows += len(rows)
            n_err += len(errors)
            if progress:
                print(f"{shard.name}: {len(rows)} rows, {len(errors)} rejected lowerings", file=sys.stderr)
    return {"rows": n_rows, "errors": n_err}


def load_rows(path: str | os.PathLike) -> list[dict]:
    rows = []
    for shard in sorted(Path(path).glob("shard_*.jsonl")):
        rows += [json.loads(line) for line in shard.open() if line.strip()]
    return rows


# ----------------------------------------------------------------------------- real MLIR

_CPU_DIALECTS = {"builtin", "func", "arith", "math", "scf", "affine", "memref", "linalg", "tensor", "vector",
                 "cf", "bufferization"}
_OP_RE = re.compile(r"\b([a-z_]+)\.[a-z_][\w.]*\b")


def corpus_candidates(root: str | os.PathLike, accepted: str | os.PathLike | None = None
                      ) -> list[tuple[str, str]]:
    """(name, module text) of each corpus module mlir-opt-22 accepts (``ACCEPTED-mlir-opt-22.txt``;
    ``-split-input-file`` tests split at ``// -----``, named ``file#k``) whose ops all come from the
    upstream CPU dialects and that defines a ``func.func`` with a body."""
    root = Path(root)
    acc = Path(accepted) if accepted else root / "ACCEPTED-mlir-opt-22.txt"
    out = []
    for line in acc.read_text().splitlines():
        status, _, rel = line.partition(" ")
        if status != "OK":
            continue
        try:
            text = (root / rel).read_text()
        except (OSError, UnicodeDecodeError):
            continue
        chunks = re.split(r"^// -----\s*$", text, flags=re.M)
        for k, chunk in enumerate(chunks):
            if "func.func" not in chunk or "expected-error" in chunk:
                continue
            body = re.sub(r"//.*", "", chunk)
            body = re.sub(r'"[^"\n]*"', '""', body)
            dialects = {m.group(1) for m in _OP_RE.finditer(body)} & _KNOWN_PREFIXES
            if dialects and dialects <= _CPU_DIALECTS:
                out.append((rel if len(chunks) == 1 else f"{rel}#{k}", chunk))
    return out


# dialect prefixes we recognise as op namespaces (others, e.g. ``d0`` in affine maps, are not dialects)
_KNOWN_PREFIXES = _CPU_DIALECTS | {"gpu", "llvm", "nvvm", "spirv", "hw", "comb", "seq", "sv", "firrtl", "calyx",
                                   "handshake", "torch", "tosa", "stablehlo", "mhlo", "async", "omp", "acc",
                                   "emitc", "sparse_tensor", "pdl", "transform", "irdl", "ml_program", "quant",
                                   "shape", "index", "complex", "amx", "x86vector", "arm_neon", "arm_sve",
                                   "arm_sme", "esi", "fsm", "moore", "llhd", "dc", "pipeline", "rtg", "verif",
                                   "ltl", "om", "msft", "systemc", "smt", "emit", "interop", "loopschedule",
                                   "ssp", "ibis", "kanagawa", "dbg", "sim", "arc", "test", "mpi", "ptr"}


def build_corpus(root: str | os.PathLike, out: str | os.PathLike, *, pipe: str = STANDARD_PIPELINE,
                 progress: bool = True) -> dict:
    """Label every function of the corpus files that ``pipe`` lowers: rows like :func:`build`'s, one
    shard (``shard_corpus.jsonl``) with a ``file`` field; the files that do not lower are listed."""
    root, out = Path(root), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows, errors = [], []
    with tempfile.TemporaryDirectory(prefix="mlircorpus-") as tmp:
        for name, src in corpus_candidates(root):
            try:
                labels = lower_and_label(src, pipe, Path(tmp))
            except LabelError as e:
                errors.append(f"{name}: {e}")
                continue
            for fn in function_names(src):
                if fn in labels and "machine_instructions" in labels[fn]:
                    rows.append({"program": name, "seed": -1, "function": fn,
                                 "family": "corpus", "config": None, "pipeline": pipe, "source": src,
                                 "file": name,
                                 "labels": {t: labels[fn][t] for t in STATIC_TARGETS if t in labels[fn]}})
    _write_atomic(out / "shard_corpus.errors.json", json.dumps(errors, indent=1) + "\n")
    _write_atomic(out / "shard_corpus.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    if progress:
        print(f"corpus: {len(rows)} functions from {len({r['file'] for r in rows})} files; "
              f"{len(errors)} files not lowered", file=sys.stderr)
    return {"rows": len(rows), "errors": len(errors)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m irtoolkit.costmodel.dataset.mlirpairs", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("build", "ranking"):
        p = sub.add_parser(name)
        p.add_argument("out")
        p.add_argument("--programs", type=int, default=200)
        p.add_argument("--configs", type=int, default=10)
        p.add_argument("--first-seed", type=int, default=0 if name == "build" else 900000)
        p.add_argument("--dynamic", action="store_true", help="also instructions executed (callgrind)")
        p.add_argument("--families", choices=("all", "small"), default="all",
                       help="small: scalar functions, scf loops and small element-wise kernels")
    c = sub.add_parser("corpus")
    c.add_argument("out")
    c.add_argument("--root", default=str(Path(__file__).resolve().parents[3] / "shared" / "corpus" / "mlir"))
    a = ap.parse_args(argv)
    if a.cmd == "build":
        fams = SMALL_FAMILIES if a.families == "small" else FAMILIES
        print(json.dumps(build(a.out, programs=a.programs, configs=a.configs, first_seed=a.first_seed,
                               families=fams, dynamic=a.dynamic)))
    elif a.cmd == "ranking":
        # one linalg kernel per program: the decision is taken per kernel
        print(json.dumps(build(a.out, programs=a.programs, configs=a.configs, first_seed=a.first_seed,
                               kernels=1, families=LINALG_FAMILIES, per_shard=1, exact=True,
                               dynamic=a.dynamic)))
    else:
        print(json.dumps(build_corpus(a.root, a.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
