"""The real-code corpus: the compiler wrapper on a real make build, a real Debian package built on a
two-node Ray cluster, labels equal to llc-22's, failures recorded, resume, reserved packages refused."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import need_tool

from irtoolkit.costmodel.dataset.realcode import corpus, debian, executed, label, stats

pytestmark = pytest.mark.slow

MAKEFILE = """\
all: prog
prog: a.o b.o nested.o
\tgcc -o prog a.o b.o nested.o
a.o: a.c
\tgcc -O2 -fno-tree-vrp -Wl,--as-needed -L /usr/lib -MD -MF a.d -c a.c -o a.o
b.o: b.c
\tgcc -O1 -c b.c -o b.o
nested.o: nested.c
\tgcc -O2 -c nested.c -o nested.o
conftest.o: conftest.c
\tgcc -c conftest.c -o conftest.o
m32.o: a.c
\tgcc -m32 -O2 -c a.c -o m32.o
"""
SOURCES = {
    "a.c": "int twice(int x) { return 2 * x; }\n",
    "b.c": "int twice(int);\nint main(void) { return twice(21) - 42; }\n",
    # a GNU C nested function: gcc builds it, clang cannot; the build must not notice
    "nested.c": "int outer(int x) { int inner(int y) { return y + x; } return inner(1); }\n",
    "conftest.c": "int probe;\n",
}


def _make(tmp_path: Path, target: str = "all", **extra_env) -> tuple[subprocess.CompletedProcess, Path]:
    need_tool("clang-22")
    src = tmp_path / "proj"
    src.mkdir(exist_ok=True)
    for name, text in SOURCES.items():
        (src / name).write_text(text)
    (src / "Makefile").write_text(MAKEFILE)
    wrap = debian.install_wrapper(tmp_path / "wrap")
    ir = tmp_path / "ir"
    ir.mkdir(exist_ok=True)
    env = {**os.environ, "PATH": f"{wrap}:{debian.BUILD_PATH}", "IRTOOLS_IR_OUT": str(ir), **extra_env}
    return subprocess.run(["make", target], cwd=src, env=env, capture_output=True, text=True), ir


def test_wrapper_builds_for_real_and_side_compiles_each_unit(tmp_path):
    proc, ir = _make(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert subprocess.run([str(tmp_path / "proj" / "prog")]).returncode == 0     # gcc's program runs
    metas = {json.loads(f.read_text())["source"].rsplit("/", 1)[-1]: f
             for f in ir.glob("*.json")}
    assert set(metas) == {"a.c", "b.c", "nested.c"}
    ok = {n: f for n, f in metas.items() if not f.name.endswith(".failed.json")}
    assert set(ok) == {"a.c", "b.c"}
    meta_a = json.loads(ok["a.c"].read_text())
    assert "-fno-tree-vrp" not in meta_a["ir_args"] and "-MF" not in meta_a["ir_args"]
    assert "/usr/lib" not in meta_a["ir_args"]      # a linker option's value is not an input
    assert label.opt_level(meta_a["ir_args"]) == "-O2"
    text = ok["a.c"].with_suffix(".ll").read_text()
    assert "define dso_local i32 @twice" in text or "@twice(" in text
    failed = json.loads(metas["nested.c"].read_text())
    assert "function definition is not allowed here" in failed["error"]
    # configure-style probes and multilib compiles leave nothing behind
    for target in ("conftest.o", "m32.o"):
        before = set(ir.iterdir())
        proc, _ = _make(tmp_path, target)
        assert proc.returncode == 0, proc.stderr
        assert set(ir.iterdir()) == before


def test_exec_objects_are_llc_code_for_the_labelled_ir(tmp_path):
    """IRTOOLS_EXEC_OBJECTS=1: a one-source object is llc-22's code for the side-compiled IR (the code
    the static labels describe), the program still links and runs; a unit clang cannot compile keeps
    gcc's object."""
    proc, ir = _make(tmp_path, IRTOOLS_EXEC_OBJECTS="1")
    assert proc.returncode == 0, proc.stderr
    assert subprocess.run([str(tmp_path / "proj" / "prog")]).returncode == 0
    metas = {json.loads(f.read_text())["source"].rsplit("/", 1)[-1]: json.loads(f.read_text()) for f in ir.glob("*.json")}
    obj = Path(metas["a.c"]["exec_object"])
    assert obj == tmp_path / "proj" / "a.o"
    ll = tmp_path / "a.ll"
    ll.write_text(next(f.with_suffix(".ll").read_text() for f in ir.glob("*.json")
                       if not f.name.endswith(".failed.json") and json.loads(f.read_text())["source"].endswith("/a.c")))
    subprocess.run([need_tool("llc-22"), "-O2", "-relocation-model=pic", "-filetype=obj", str(ll), "-o",
                    str(tmp_path / "want.o")], check=True)
    nm = need_tool("llvm-nm-22")
    sizes = [subprocess.run([nm, "--print-size", str(o)], capture_output=True, text=True, check=True).stdout
             for o in (obj, tmp_path / "want.o")]
    assert sizes[0] == sizes[1]
    assert "exec_object" not in metas["nested.c"]          # gcc's object: clang had no IR for it
    assert json.loads(json.dumps(metas["b.c"]))["exec_object"].endswith("b.o")


CALLS = """#include <stdlib.h>
__attribute__((noipa)) long sum(long n) { long s = 0; for (long i = 0; i < n; i++) s += i * i; return s; }
__attribute__((noipa)) long fact(long n) { return n <= 1 ? 1 : n * fact(n - 1); }
__attribute__((noipa)) long both(long n) { return sum(n) + fact(n); }
int main(int argc, char **argv) {
    long t = 0;
    for (int k = 0; k < 3; k++) t += sum(1000);
    t += both(10) + fact(12);
    return t == 42;   /* 0: valgrind passes the status on */
}
"""


def test_callgrind_dump_gives_calls_from_outside_and_their_inclusive_cost(tmp_path):
    """On a real compiled program: calls counted from outside (fact's recursion is not a call of it),
    inclusive cost per call equal to what callgrind_annotate reports, self cost apart."""
    need_tool("valgrind")
    src = tmp_path / "calls.c"
    src.write_text(CALLS)
    exe = tmp_path / "calls"
    subprocess.run(["gcc", "-O1", "-fno-inline", str(src), "-o", str(exe)], check=True)
    dump = tmp_path / "cg.out"
    subprocess.run([*executed.VALGRIND, f"--callgrind-out-file={dump}", str(exe)], check=True)
    got = executed.parse_dump(dump, lambda ob: ob == str(exe))
    assert got["sum"][1] == 4 and got["both"][1] == 1 and got["fact"][1] == 2 and got["main"][1] == 1
    annot = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(dump)], capture_output=True,
                           text=True, check=True).stdout
    incl = {m.group(2): int(m.group(1).replace(",", "")) for m in
            re.finditer(r"^\s*([\d,]+) \([^)]*\)\s+\S*:(\w+) \[", annot, re.M)}
    for fn in ("sum", "main", "both"):
        assert got[fn][0] == incl[fn], (fn, got[fn], incl[fn])
    # one call of sum(1000) is a loop of 1000 iterations: thousands of instructions, and 4 calls cost
    # 3 x 1000 + 10 iterations' worth
    assert got["sum"][0] / got["sum"][1] > 2000
    assert got["sum"][2] == got["sum"][0]                       # a leaf: self is inclusive
    assert got["main"][2] < got["main"][0]


RULES = {
    # dh with an out-of-tree build: the suite runs where the build is
    "dh": ("#!/usr/bin/make -f\n%:\n\tdh $@ --buildsystem=cmake --builddirectory build/ --with foo\n",
           ["dh_auto_test", "--buildsystem=cmake", "--builddirectory", "build/"]),
    "override": ("%:\n\tdh $@\noverride_dh_auto_test-arch:\n\tdh_auto_test -B debian/a\n",
                 ["make", "-f", "debian/rules", "override_dh_auto_test-arch"]),
    # hand-written rules (gzip): the check its build target runs
    "hand": ("build-stamp:\n\t${MAKE} -C builddir\n\t${MAKE} -C builddir check\n", ["make", "-C", "builddir", "check"]),
    "dh-vars": ("%:\n\tdh $@ --builddirectory=$(BUILD)\n", ["dh_auto_test"]),
}


@pytest.mark.parametrize("form", sorted(RULES))
def test_suite_command_is_the_one_debian_runs(tmp_path, form):
    text, want = RULES[form]
    (tmp_path / "debian").mkdir()
    (tmp_path / "debian" / "rules").write_text(text)
    assert executed.suite_command(tmp_path) == want


def test_labels_equal_llc_and_bodies_hash(tmp_path):
    _make(tmp_path)
    mods = label.collect_modules(tmp_path / "ir")
    rows, errors = label.label_modules(mods, {"package": "proj"})
    assert not errors
    by_fn = {r["function"]: r for r in rows}
    assert set(by_fn) == {"twice", "main"}
    # the same number llc-22 reports for that module at its -O level
    ll = tmp_path / "twice.ll"
    ll.write_text(next(m["text"] for m in mods if "@twice(" in m["text"] and "@main(" not in m["text"]))
    yaml = tmp_path / "r.yaml"
    subprocess.run([need_tool("llc-22"), "-O2", "-pass-remarks-analysis=asm-printer", f"-pass-remarks-output={yaml}",
                    "-filetype=obj", str(ll), "-o", str(tmp_path / "t.o")], check=True)
    from irtoolkit.costmodel.dataset.labellers import parse_remarks, remarks_to_labels

    want = remarks_to_labels(parse_remarks(yaml.read_text()))["twice"]["machine_instructions"]
    assert by_fn["twice"]["machine_instructions"] == want > 0
    assert by_fn["twice"]["text_bytes"] > 0
    assert by_fn["main"]["opt"] == "-O1"
    assert by_fn["twice"]["function_sha"] != by_fn["main"]["function_sha"]


def test_reserved_packages_are_refused(tmp_path):
    lst = tmp_path / "pk.txt"
    lst.write_text("hello\nzstd  # reserved\n")
    with pytest.raises(debian.Reserved):
        corpus.read_packages(lst)
    with pytest.raises(debian.Reserved):
        debian.build_package("sqlite3", tmp_path / "x")
    shipped = corpus.read_packages(Path(corpus.__file__).with_name("packages.txt"))
    assert len(shipped) >= 150 and not set(shipped) & debian.RESERVED
    assert corpus.main(["build", "--only", "lua5.4", "--out", str(tmp_path / "c")]) == 2


@pytest.fixture(scope="module")
def two_node_cluster():
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    if shutil.which("apt-get") is None or shutil.which("dpkg-buildpackage") is None:
        pytest.skip("needs Debian's apt-get and dpkg-dev")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address)
    yield cluster
    ray.shutdown()
    cluster.shutdown()


def test_debian_package_on_two_nodes_then_resume(tmp_path, two_node_cluster):
    """GNU hello (a tiny C package) and a package that does not exist, on a two-node cluster."""
    out = tmp_path / "corpus"
    summary = corpus.Corpus(out).run(["hello", "no-such-package-irtools"], workers=2, progress=False,
                                     scratch=str(tmp_path / "scratch"))
    assert summary.get("built") == 1 and summary.get("failed") == 1, summary
    res = json.loads((out / "packages/hello/result.json").read_text())
    assert res["status"] == "built" and res["version"].startswith("2.") and res["license"] != ""
    assert res["modules"] > 0
    fails = json.loads((out / "failures.json").read_text())
    assert fails["no-such-package-irtools"].startswith("source:")
    import pyarrow.parquet as pq

    fn = pq.read_table(out / "packages/hello/functions.parquet").to_pylist()
    main = [r for r in fn if r["function"] == "main"]
    assert main and main[0]["machine_instructions"] > 0 and main[0]["package"] == "hello"
    assert main[0]["source_file"].endswith(".c") and not main[0]["source_file"].startswith("/")
    mods = pq.read_table(out / "packages/hello/modules.parquet").to_pylist()
    assert {r["ir_sha256"] for r in fn} <= {m["ir_sha256"] for m in mods}
    # a second run finds everything done: nothing is built or labelled again
    again = corpus.Corpus(out).run(["hello", "no-such-package-irtools"], workers=2, progress=False,
                                   scratch=str(tmp_path / "scratch"))
    assert again == {"skipped": 2}
    # a killed run: the functions table is gone, the build is kept; the rerun only labels
    (out / "packages/hello/functions.parquet").unlink()
    third = corpus.Corpus(out).run(["hello"], workers=2, progress=False, scratch=str(tmp_path / "scratch"))
    assert third.get("labelled") == 1 and "built" not in third
    # instructions executed: a second build whose objects are llc-22's code, hello's suite under callgrind
    ex = corpus.Corpus(out).run_executed(["hello", "no-such-package-irtools"], workers=2, progress=False,
                                         scratch=str(tmp_path / "scratch"))
    assert ex.get("labelled") == 1 and ex.get("skipped") == 1, ex
    xres = json.loads((out / "packages/hello/executed.json").read_text())
    assert xres["suite"]["rc"] == 0 and xres["suite"]["package_processes"] >= 1
    xrows = {r["function"]: r for r in pq.read_table(out / "packages/hello/executed.parquet").to_pylist()}
    assert xrows["main"]["calls"] >= 1 and xrows["main"]["instructions_executed"] > xrows["main"]["self_ir"] > 0
    assert corpus.Corpus(out).run_executed(["hello"], workers=2, progress=False) == {"skipped": 1}
    st = stats.corpus_stats(out)
    assert st["packages"] == {"attempted": 2, "built": 1, "failed": 1, "labelled": 1}
    assert st["by_language"]["c"]["functions"] >= len({r["function"] for r in fn}) > 0
    # the evaluation reads the same folder: features cached per package, baselines in the same run
    from irtoolkit import costmodel
    from irtoolkit.costmodel.dataset.realcode import evaluate

    rows, X = evaluate.load(out)
    assert rows and X.shape == (len(rows), len(evaluate.FEATURE_NAMES))
    # the second build's bodies are the first's: the suite's counts join the static rows
    joined = {r["function"]: r["instructions_executed"] for r in rows if r["instructions_executed"] is not None}
    assert joined.get("main") == xrows["main"]["instructions_executed"]
    assert list((out / "packages/hello").glob("features-*.npz"))
    res = evaluate.evaluate(costmodel.load(), rows, X)
    mi = res["targets"]["machine_instructions"]
    assert mi["model"]["n"] == sum(r["machine_instructions"] is not None for r in rows)
    assert mi["baseline_const_ir_count"]["c"] > 0 and set(mi["per_package"]) == {"hello"}


def test_a_local_run_starts_its_own_ray_beside_another_cluster(two_node_cluster):
    """Without --ray-address a build starts a Ray instance of its own, sized to its workers, even while
    another cluster runs on the machine: plain ray.init() joined that one (anyone's; here the test
    cluster) and refused the worker count, which stopped a corpus build during a test run."""
    import sys

    code = ("import ray; from irtoolkit.costmodel.dataset.realcode.corpus import _start_ray; "
            "print(_start_ray(None, 3, 1), int(ray.cluster_resources()['CPU']))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env={**os.environ, "RAY_AUTH_MODE": "disabled"})
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split()[-2:] == ["3", "3"]


def test_hung_build_is_recorded(tmp_path, two_node_cluster):
    res = debian.build_package("hello", tmp_path / "h", timeout=3)
    assert res.status == "failed" and res.reason.startswith("timeout:")


def test_package_with_no_labelled_function_counts_as_built_not_labelled(tmp_path):
    """A package whose every side compile failed (libraw: 4 modules, 157 side failures) gets the labeller's
    empty functions table, which has no columns; the statistics and the loader read past it."""
    pdir = tmp_path / "packages" / "empty"
    pdir.mkdir(parents=True)
    (pdir / "result.json").write_text(json.dumps({"package": "empty", "status": "built", "reason": "",
                                                  "version": "1", "modules": 0}))
    corpus._write_table([{"ir_sha256": "0" * 64, "text": "declare i32 @puts(ptr)\n", "source_file": "a.c",
                          "lang": "c", "compiler": "gcc", "flags": "-O2", "opt": "-O2", "package": "empty",
                          "version": "1"}], pdir / "modules.parquet")
    corpus._write_table([], pdir / "functions.parquet")
    st = stats.corpus_stats(tmp_path)
    assert st["packages"] == {"attempted": 1, "built": 1, "failed": 0, "labelled": 0}
    from irtoolkit.costmodel.dataset.realcode import evaluate

    rows, X = evaluate.load(tmp_path)
    assert rows == [] and X.shape[0] == 0


def test_best_constant_is_the_mape_minimiser():
    from irtoolkit.costmodel.dataset.realcode.evaluate import best_constant

    rng = np.random.default_rng(3)
    x = rng.integers(1, 400, 300).astype(float)
    y = x * rng.lognormal(0.3, 0.5, 300)
    c = best_constant(x, y)
    grid = np.linspace(0.2, 5, 4000)
    brute = grid[np.argmin([np.mean(np.abs(g * x - y) / y) for g in grid])]
    assert np.mean(np.abs(c * x - y) / y) <= np.mean(np.abs(brute * x - y) / y) + 1e-12


def _fake_package(root: Path, name: str, seeds: range) -> None:
    """A corpus package made of generated C programs, labelled as a built package is."""
    from irtoolkit.costmodel.dataset import cgen

    need_tool("clang-22")
    mods = []
    for seed in seeds:
        src = root / f"{name}-{seed}.c"
        src.write_text(cgen.generate_program(seed).source)
        ll = src.with_suffix(".ll")
        subprocess.run(["clang-22", "-O2", "-S", "-emit-llvm", str(src), "-o", str(ll)], check=True)
        text = ll.read_text()
        import hashlib

        mods.append({"ir_sha256": hashlib.sha256(text.encode()).hexdigest(), "text": text,
                     "source_file": src.name, "lang": "c", "compiler": "gcc", "flags": '["-O2"]', "opt": "-O2"})
    rows, errors = label.label_modules(mods, {"package": name, "version": "1", "license": "MIT"})
    assert rows and not errors
    pdir = root / "corpus" / "packages" / name
    pdir.mkdir(parents=True)
    corpus._write_table([{**m, "package": name, "version": "1"} for m in mods], pdir / "modules.parquet")
    corpus._write_table(rows, pdir / "functions.parquet")


def test_train_default_fits_real_rows_and_evaluates_unseen_packages(tmp_path):
    """--realcode: the training packages join the fit, the test packages are scored apart."""
    from irtoolkit.costmodel import train_default
    from irtoolkit.costmodel.dataset.realcode import evaluate

    names = [f"pkg{i}" for i in range(40)]
    test_side = [n for n in names if evaluate.package_side(n)][:2]
    train_side = [n for n in names if not evaluate.package_side(n)][:3]
    for k, n in enumerate(test_side + train_side):
        _fake_package(tmp_path, n, range(9000 + 2 * k, 9002 + 2 * k))
    out = tmp_path / "model"
    rc = train_default.main(["--data", str(tmp_path / "gen"), "--shards", "1", "--gpu-data", "", "--tvm-cpu-data",
                             "", "--mlir-data", "", "--realcode", str(tmp_path / "corpus"), "--out", str(out)])
    assert rc == 0
    report = json.loads((out / "report.json").read_text())
    assert report["data"]["realcode_origins"] == 3 and report["data"]["realcode_rows"] > 0
    rcr = report["realcode"]
    assert rcr["split"]["test_package_names"] == sorted(test_side)
    mi = rcr["evaluation"]["targets"]["machine_instructions"]
    assert set(mi["per_package"]) == set(test_side) and mi["baseline_const_ir_count"]["c"] > 0
    assert "Real code, 2 Debian packages never trained on" in (out / "report.md").read_text()
