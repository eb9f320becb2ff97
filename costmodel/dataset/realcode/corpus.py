"""The real-code corpus on Ray: every package build and every labelling shard is a Ray task.

Layout of a corpus folder (``--out``)::

    meta.json                          tools and settings
    packages/<pkg>/result.json         the build's outcome (status, reason, version, licence, seconds, node)
    packages/<pkg>/modules.parquet     one row per distinct IR module (text, source file, flags, compiler)
    packages/<pkg>/functions.parquet   one row per defined function: provenance + static labels
    failures.json                      the failure table (package -> reason), rewritten as the run goes
    packages/<pkg>/executed.json       the test-suite run for instructions executed (``executed`` command)
    packages/<pkg>/executed.parquet    one row per function the suite called: instructions per call

A package with ``result.json`` is built, one with ``functions.parquet`` labelled: a killed run resumes
with what is missing and loses nothing that finished.  Build and label tasks return their tables
through Ray's object store and the driver writes them, so the nodes need no shared file system: each
node needs only Debian with apt (``debian.node_setup`` does the rest, inside the task).

A build that fails is tried once more (``build:``/crash reasons; a missing source, unsatisfiable
build-deps or a time-out are final) and then recorded with its reason; the run goes on.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

from .debian import RESERVED, BuildResult, Reserved, build_package, check_allowed, node_setup
from .label import collect_modules, label_modules

SHARD_MODULES = 40          # modules per labelling task
FINAL_REASONS = ("source:", "build-deps:", "timeout:", "no C/C++")


def read_packages(path: str | os.PathLike) -> list[str]:
    """Package names of a list file (one per line, ``#`` comments); reserved names are refused."""
    names = []
    for line in Path(path).read_text().splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            check_allowed(name)
            names.append(name)
    return list(dict.fromkeys(names))


def _write_table(rows: list[dict], path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = path.with_suffix(".tmp")
    pq.write_table(pa.Table.from_pylist(rows), tmp, compression="zstd")
    os.replace(tmp, path)


def _write_json(obj, path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _build_remote(package: str, scratch: str, jobs: int, timeout: float) -> tuple[dict, list[dict]]:
    """Ray task body: set the node up, build, and hand back the result and the modules."""
    import shutil

    node_setup()
    out = Path(scratch) / package
    res = build_package(package, out, jobs=jobs, timeout=timeout)
    mods = collect_modules(out / "ir")
    # keep the log of a failure next to the result (small), then free the node's disk
    res.log_tail = res.log_tail if res.status != "built" else []
    shutil.rmtree(out, ignore_errors=True)
    return res.to_json(), mods


def _label_remote(mods: list[dict], common: dict) -> tuple[list[dict], list[str]]:
    return label_modules(mods, common)


def _executed_remote(package: str, scratch: str, jobs: int, timeout: float, suite_timeout: float):
    """Ray task body: a second build with llc-22's objects, the test suite under callgrind."""
    import shutil

    from .executed import label_package

    node_setup()
    out = Path(scratch) / f"{package}.exec"
    try:
        return label_package(package, out, jobs=jobs, timeout=timeout, suite_timeout=suite_timeout)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _start_ray(ray_address: str | None, workers: int | None, jobs: int) -> int:
    """Join ``ray_address`` or start a local cluster (sized to ``workers`` × ``jobs``); the tasks to run at once."""
    import ray

    if not ray.is_initialized():
        # None means a cluster of our own: plain ray.init() joins whatever cluster was last started on
        # this machine (anyone's), and refuses num_cpus there
        ray.init(address=ray_address or "local", log_to_driver=False, include_dashboard=False,
                 **({"num_cpus": workers * jobs} if workers and not ray_address else {}))
    return workers or max(1, int(ray.cluster_resources().get("CPU", 1)) // jobs)


def _scratch(scratch: str | None) -> str:
    return scratch or str(Path(os.environ.get("TMPDIR", "/tmp")) / "irtools-realcode")


def _progress(progress: bool):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[note]}"), console=Console(stderr=True), disable=not progress)


class Corpus:
    """One corpus folder; :meth:`run` builds and labels what is missing."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        (self.root / "packages").mkdir(parents=True, exist_ok=True)

    def pdir(self, package: str) -> Path:
        return self.root / "packages" / package

    def result(self, package: str) -> dict | None:
        f = self.pdir(package) / "result.json"
        return json.loads(f.read_text()) if f.is_file() else None

    def labelled(self, package: str) -> bool:
        return (self.pdir(package) / "functions.parquet").is_file()

    def failures(self) -> dict[str, str]:
        out = {}
        for f in sorted((self.root / "packages").glob("*/result.json")):
            r = json.loads(f.read_text())
            if r["status"] != "built":
                out[r["package"]] = r["reason"]
        return out

    def _save_build(self, res: dict, mods: list[dict]) -> None:
        d = self.pdir(res["package"])
        d.mkdir(parents=True, exist_ok=True)
        if mods:
            _write_table([{**m, "package": res["package"], "version": res["version"]} for m in mods],
                         d / "modules.parquet")
        _write_json(res, d / "result.json")     # last: it marks the build done

    def _modules(self, package: str) -> list[dict]:
        import pyarrow.parquet as pq

        f = self.pdir(package) / "modules.parquet"
        return pq.read_table(f).to_pylist() if f.is_file() else []

    def run(self, packages: list[str], *, ray_address: str | None = None, workers: int | None = None,
            jobs: int = 1, timeout: float = 1800, label: bool = True, progress: bool = True,
            scratch: str | None = None) -> dict:
        """Build and label every package of ``packages`` not done yet; returns a summary.

        ``ray_address`` None starts a local Ray cluster of its own, beside any other; ``workers`` caps the builds
        running at once (default: the cluster's CPUs / ``jobs``).  ``jobs`` is each build's ``make -j``.
        """
        import ray

        for p in packages:
            check_allowed(p)
        workers = _start_ray(ray_address, workers, jobs)
        scratch = _scratch(scratch)
        _write_json({"layout": 1, "packages": len(packages), "jobs": jobs, "timeout": timeout,
                     "reserved_excluded": sorted(RESERVED)}, self.root / "meta.json")
        build = ray.remote(num_cpus=jobs, max_retries=1)(_build_remote)
        lab = ray.remote(num_cpus=1, max_retries=1)(_label_remote)

        to_build = [p for p in packages if self.result(p) is None]
        to_label = [p for p in packages if label and (r := self.result(p)) and r["modules"] and not self.labelled(p)]
        summary: Counter = Counter(skipped=len(packages) - len(to_build))
        attempts: dict[str, int] = {}
        pending: dict = {}          # ObjectRef -> ("build", pkg) | ("label", pkg, shard index)
        label_parts: dict[str, dict] = {}

        def submit_label(pkg: str) -> None:
            res = self.result(pkg)
            mods = self._modules(pkg)
            common = {"package": pkg, "version": res["version"], "license": res["license"]}
            shards = [mods[i:i + SHARD_MODULES] for i in range(0, len(mods), SHARD_MODULES)]
            label_parts[pkg] = {"left": len(shards), "rows": [], "errors": []}
            for i, s in enumerate(shards):
                pending[lab.remote(s, common)] = ("label", pkg, i)
            if not shards:
                label_parts.pop(pkg)

        queue = list(to_build)
        with _progress(progress) as bar:
            tb = bar.add_task("build", total=len(packages), completed=summary["skipped"], note="")
            tl = bar.add_task("label", total=None, completed=0, note="")
            for p in to_label:
                submit_label(p)
            while queue or pending:
                while queue and sum(1 for v in pending.values() if v[0] == "build") < workers:
                    pkg = queue.pop(0)
                    attempts[pkg] = attempts.get(pkg, 0) + 1
                    pending[build.remote(pkg, scratch, jobs, timeout)] = ("build", pkg)
                done, _ = ray.wait(list(pending), num_returns=1, timeout=5.0)
                for ref in done:
                    kind, pkg, *rest = pending.pop(ref)
                    if kind == "build":
                        try:
                            res, mods = ray.get(ref)
                        except Exception as e:    # the task or its node died twice: record it
                            res, mods = BuildResult(pkg, "failed", reason=f"crash: {str(e).splitlines()[0][:300]}"
                                                    ).to_json(), []
                        if res["status"] != "built" and attempts[pkg] < 2 \
                                and not res["reason"].startswith(FINAL_REASONS):
                            queue.append(pkg)          # tried once more, at the end of the queue
                            continue
                        res["attempts"] = attempts[pkg]
                        self._save_build(res, mods)
                        summary[res["status"]] += 1
                        bar.advance(tb)
                        bar.update(tb, note=f"{summary['built']} built, {summary['failed']} failed — last: {pkg}")
                        if not progress:     # a log a background run can be followed with (tail -f)
                            print(f"[realcode] {time.strftime('%H:%M:%S')} {pkg}: {res['status']} "
                                  f"{res['reason'][:120]} ({res['modules']} modules, {res['seconds']:.0f} s)",
                                  file=sys.stderr, flush=True)
                        if label and mods:
                            submit_label(pkg)
                    else:
                        part = label_parts[pkg]
                        try:
                            rows, errs = ray.get(ref)
                        except Exception as e:
                            rows, errs = [], [f"label shard {rest[0]}: {str(e).splitlines()[0][:300]}"]
                        part["rows"] += rows
                        part["errors"] += errs
                        part["left"] -= 1
                        if part["left"] == 0:
                            _write_table(part["rows"], self.pdir(pkg) / "functions.parquet")
                            _write_json(part["errors"], self.pdir(pkg) / "label_errors.json")
                            summary["functions"] += len(part["rows"])
                            summary["labelled"] += 1
                            label_parts.pop(pkg)
                            bar.advance(tl)
                            bar.update(tl, note=f"{summary['functions']:,} functions — last: {pkg}")
        _write_json(self.failures(), self.root / "failures.json")
        return dict(summary)

    def run_executed(self, packages: list[str], *, ray_address: str | None = None, workers: int | None = None,
                     jobs: int = 1, timeout: float = 1800, suite_timeout: float = 1800, progress: bool = True,
                     scratch: str | None = None) -> dict:
        """Instructions-executed labels of every built package that has none yet (one Ray task each)."""
        import ray

        workers = _start_ray(ray_address, workers, jobs)
        scratch = _scratch(scratch)
        task = ray.remote(num_cpus=jobs, max_retries=1)(_executed_remote)
        todo = [p for p in packages if (r := self.result(p)) and r["status"] == "built"
                and not (self.pdir(p) / "executed.json").is_file()]
        summary: Counter = Counter(skipped=len(packages) - len(todo))
        pending: dict = {}
        with _progress(progress) as bar:
            t = bar.add_task("executed", total=len(todo), note="")
            while todo or pending:
                while todo and len(pending) < workers:
                    pkg = todo.pop(0)
                    pending[task.remote(pkg, scratch, jobs, timeout, suite_timeout)] = pkg
                done, _ = ray.wait(list(pending), num_returns=1, timeout=5.0)
                for ref in done:
                    pkg = pending.pop(ref)
                    try:
                        res, rows = ray.get(ref)
                    except Exception as e:     # the task or its node died twice: record it
                        res, rows = {"package": pkg, "status": "failed", "functions": 0,
                                     "reason": f"crash: {str(e).splitlines()[0][:300]}"}, []
                    if rows:
                        _write_table(rows, self.pdir(pkg) / "executed.parquet")
                    _write_json(res, self.pdir(pkg) / "executed.json")      # last: it marks the package done
                    summary[res["status"]] += 1
                    summary["functions"] += len(rows)
                    bar.advance(t)
                    bar.update(t, note=f"{summary['functions']:,} functions — last: {pkg} ({res['status']})")
                    if not progress:
                        print(f"[realcode] {time.strftime('%H:%M:%S')} {pkg}: executed {res['status']} "
                              f"{res.get('reason', '')[:120]} ({len(rows)} functions)", file=sys.stderr, flush=True)
        return dict(summary)


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(
        prog="python -m irtoolkit.costmodel.dataset.realcode",
        description="Build Debian source packages with the IR wrapper and label every function (on Ray).")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build and label (resumes: what is done is skipped)")
    b.add_argument("--packages", default=str(Path(__file__).with_name("packages.txt")),
                   help="package list, one source package a line (default: the shipped list)")
    b.add_argument("--only", nargs="*", help="these packages only (they must be in no reserved set)")
    b.add_argument("--out", required=True, help="the corpus folder")
    b.add_argument("--ray-address", default=None, help="join this Ray cluster (default: start a local one)")
    b.add_argument("--workers", type=int, default=None, help="builds at once (default: CPUs / --jobs)")
    b.add_argument("--jobs", type=int, default=1, help="make -j of each build (its Ray CPU request)")
    b.add_argument("--timeout", type=float, default=1800, help="seconds before a build counts as hung")
    b.add_argument("--no-label", action="store_true", help="build only")
    x = sub.add_parser("executed", help="instructions executed per call: each built package's own test "
                       "suite under callgrind, on a second build whose objects are llc-22's code for the "
                       "labelled IR (resumes: packages with executed.json are skipped)")
    x.add_argument("--out", required=True, help="the corpus folder (packages built by `build`)")
    x.add_argument("--only", nargs="*", help="these packages only")
    x.add_argument("--ray-address", default=None, help="join this Ray cluster (default: start a local one)")
    x.add_argument("--workers", type=int, default=None, help="packages at once (default: CPUs / --jobs)")
    x.add_argument("--jobs", type=int, default=1, help="make -j of each build")
    x.add_argument("--timeout", type=float, default=1800, help="seconds before a build counts as hung")
    x.add_argument("--suite-timeout", type=float, default=1800,
                   help="seconds for the test suite under callgrind (what ran by then is kept)")
    s = sub.add_parser("stats", help="ComPile-style statistics of a corpus folder (table + plot)")
    s.add_argument("corpus")
    s.add_argument("--json", dest="json_out", help="write the statistics here")
    s.add_argument("--plot", help="write the size-distribution plot here (PNG)")
    s.add_argument("--markdown", help="write the README tables here")
    s.add_argument("--failures", help="write the failure table here (JSON: package -> reason)")
    args = ap.parse_args(argv)
    if args.cmd == "stats":
        from .stats import corpus_stats, markdown, plot

        st = corpus_stats(args.corpus)
        if args.json_out:
            _write_json(st, Path(args.json_out))
        if args.failures:
            _write_json(st["failures"], Path(args.failures))
        if args.plot:
            plot(args.corpus, args.plot, st)
        text = markdown(st)
        if args.markdown:
            Path(args.markdown).write_text(text)
        print(text)
        return 0
    if args.cmd == "executed":
        corpus_ = Corpus(args.out)
        pkgs = args.only or sorted(d.name for d in (corpus_.root / "packages").iterdir() if d.is_dir())
        try:
            for p in pkgs:
                check_allowed(p)
        except Reserved as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        summary = corpus_.run_executed(pkgs, ray_address=args.ray_address, workers=args.workers, jobs=args.jobs,
                                       timeout=args.timeout, suite_timeout=args.suite_timeout,
                                       progress=sys.stderr.isatty())
        print(json.dumps(summary, sort_keys=True))
        return 0
    try:
        pkgs = args.only or read_packages(args.packages)
        for p in pkgs:
            check_allowed(p)
    except (OSError, Reserved) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    t0 = time.time()
    summary = Corpus(args.out).run(pkgs, ray_address=args.ray_address, workers=args.workers, jobs=args.jobs,
                                   timeout=args.timeout, label=not args.no_label, progress=sys.stderr.isatty())
    summary["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(summary, sort_keys=True))
    return 0
