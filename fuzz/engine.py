"""The campaign loop: corpus, scheduling, workers, findings, stats (libFuzzer/AFL-like layout).

``DIR/corpus/`` (``<id>.tir`` TVMScript + ``<id>.json`` pass list and origin), ``DIR/findings/<sig>/``,
``DIR/hangs/``, ``DIR/stats.json``, ``DIR/plot_data.csv``, ``DIR/meta.json``, ``DIR/coverage.bitmap``.
Every file is written atomically and every finding before anything else, so a SIGKILL loses
nothing that was reported and ``resume`` continues from the corpus, the bitmap and the stats.

With ``ray`` (``"auto"`` or a cluster address) the workers are Ray actors (:mod:`irtoolkit.fuzz.cluster`); the
folder, its resume and its report are the same, and ``stats.json``'s ``workers`` says where each ran.

Modes (for the baselines): ``full`` (IR + pass-list mutation with feedback), ``random-passes``
(random pass orders on the seeds, no feedback), ``random-targets`` (the same, each case compiled
for a random one of the fuzzer's targets half the time), ``ir-only`` (IR mutation, default pipeline).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import findings as F
from .mutate import passes as PM
from .oracles import classify, expected_error
from .protocol import HANG_CONFIRM, Request
from .tvm import passes as P
from .worker import WorkerPool


class CampaignError(Exception):
    pass


@dataclass
class Entry:
    id: str
    seed_name: str
    text: str
    passes: list
    ir_mutated: bool
    picks: int = 0
    found: int = 0     # corpus entries its mutants added
    cov: int = 0       # coverage sites the case that added it found


@dataclass
class Stats:
    start: float = field(default_factory=time.time)
    elapsed_before: float = 0.0
    execs: int = 0
    rejected: int = 0
    expected_errors: int = 0
    crashes: int = 0
    hangs: int = 0
    findings: int = 0
    finding_hits: int = 0
    corpus: int = 0
    cov_own: int = 0
    cov_other: int = 0
    # the sites the compile pipeline itself reached (passes, code generation), not the fuzzer's own
    # parsing, mutation, printing and oracles: the figure to compare with other fuzzers
    cov_pipeline_own: int = 0
    cov_pipeline_other: int = 0
    semantic: int = 0
    builds_skipped: int = 0
    stage_s: dict = field(default_factory=dict)  # child seconds per stage, summed over cases
    by_op: dict = field(default_factory=dict)    # mutation kind -> [cases, new coverage sites, corpus entries]
    triaged: dict = field(default_factory=dict)  # triage class or "hang" -> distinct signatures kept apart (not findings)
    counts: dict = field(default_factory=dict)   # "<class>/<signature>" -> cases that hit it (one exemplar kept)
    workers: dict = field(default_factory=dict)  # worker id -> {"node", "execs", ...}, execs summed over resumes


MODES = ("full", "random-passes", "random-targets", "ir-only")
BASELINES = ("random-passes", "random-targets")  # no corpus, no feedback: random pass orders on the seeds


def _id(text: str, passes) -> str:
    return hashlib.sha1((text + json.dumps(passes)).encode()).hexdigest()[:16]


class Campaign:
    def __init__(self, out: Path, *, seed: int, workers: int, mode: str = "full", coverage: bool = True,
                 resume: bool = False, case_timeout: float = 10.0, console=None, replay_findings: bool = True,
                 ray: str | None = None):
        self.out = Path(out)
        self.seed, self.workers, self.mode, self.coverage = seed, workers, mode, coverage
        self.ray = ray  # None: fork servers on this machine; "auto" or an address: Ray actors
        self._pool = None
        self._stop = False
        self.case_timeout = case_timeout
        self.console = console
        self.rng = random.Random(seed)
        self.stats = Stats()
        self.corpus: list[Entry] = []
        self.semantic: set[str] = set()
        self.signatures: dict[str, int] = {}
        # each new bug's reproducer is run alone in the background (plain tvm.compile hit?, backtrace)
        self.replay_findings = replay_findings
        self._replays: list = []
        self._by_id: dict[str, Entry] = {}
        self._current: dict[int, list] = {}  # worker -> [entry, cases left]: energy, AFL-like
        self._prepare(resume)

    # ---------------------------------------------------------------- layout
    def _prepare(self, resume: bool) -> None:
        out = self.out
        if out.exists() and any(out.iterdir()) and not resume:
            raise CampaignError(f"{out} is not empty: pass --resume to continue that campaign, or pick a new --out")
        for d in ("corpus", "findings", "hangs", "logs"):
            (out / d).mkdir(parents=True, exist_ok=True)
        if resume and (out / "stats.json").exists():
            st = json.loads((out / "stats.json").read_text())
            for k, v in st.items():
                if hasattr(self.stats, k) and k != "start":
                    setattr(self.stats, k, v)
            self.stats.elapsed_before = st.get("elapsed", 0.0)
            sem = out / "semantic.json"
            if sem.exists():
                self.semantic = set(json.loads(sem.read_text()))
        for d in (out / "findings").iterdir():
            if d.is_dir() and not d.name.startswith("."):
                self.signatures[d.name] = 1
        self.stats.findings = len(self.signatures)
        self.hits = self.stats.counts
        self._workers_before = {w: dict(d) for w, d in self.stats.workers.items()}
        self._meta = {"seed": self.seed, "workers": self.workers, "mode": self.mode, "coverage": self.coverage,
                      "ray": self.ray, "versions": F.versions(), "resumed": resume, "started": time.time()}
        F.atomic_write(out / "meta.json", json.dumps(self._meta, indent=1))
        if not (out / "plot_data.csv").exists():
            F.atomic_write(out / "plot_data.csv", "time,execs,coverage,coverage_llvm,semantic,findings,pipeline,pipeline_llvm\n")
        from .tvm.seeds import build_seeds

        self.seeds = {s.name: s for s in build_seeds()}
        if resume:
            for js in sorted((out / "corpus").glob("*.json")):
                d = json.loads(js.read_text())
                tir = js.with_suffix(".tir")
                if tir.exists():
                    e = Entry(js.stem, d["seed_name"], tir.read_text(), d["passes"], d["ir_mutated"])
                    self.corpus.append(e)
                    self._by_id[e.id] = e
        if not self.corpus:
            for s in self.seeds.values():
                self._add_corpus(s.name, s.script, P.to_json(P.default_pipeline()), False)

    def _add_corpus(self, seed_name: str, text: str, passes: list, ir_mutated: bool, cov: int = 0) -> bool:
        cid = _id(text, passes)
        if cid in self._by_id:
            return False
        F.atomic_write(self.out / "corpus" / f"{cid}.tir", text)
        F.atomic_write(self.out / "corpus" / f"{cid}.json",
                       json.dumps({"seed_name": seed_name, "passes": passes, "ir_mutated": ir_mutated}))
        e = Entry(cid, seed_name, text, passes, ir_mutated, cov=cov)
        self.corpus.append(e)
        self._by_id[cid] = e
        self.stats.corpus = len(self.corpus)
        return True

    def _drop_corpus(self, cid: str) -> None:
        e = self._by_id.get(cid)
        if e is None or not e.ir_mutated or len(self.corpus) <= 1:
            return
        del self._by_id[cid]
        self.corpus.remove(e)
        for w, cur in list(self._current.items()):
            if cur[0] is e:
                del self._current[w]
        for suffix in (".json", ".tir"):
            (self.out / "corpus" / f"{cid}{suffix}").unlink(missing_ok=True)
        self.stats.corpus = len(self.corpus)

    # ---------------------------------------------------------------- scheduling
    def _pick(self) -> Entry:
        """AFL-like: entries never fuzzed first, then those whose mutants keep finding new
        behaviour or that brought much coverage, less and less the more often they were picked."""
        weights = [(3.0 if e.picks == 0 else 1.0) * (1 + 2 * e.found) * (1 + math.log1p(e.cov) / 4)
                   / math.sqrt(1 + e.picks) for e in self.corpus]
        return self.rng.choices(self.corpus, weights)[0]

    def _entry_for(self, worker: int) -> Entry:
        """One entry serves a worker for several cases in a row (its energy), so the persistent
        child keeps its parse and its default-pipeline build cached across them."""
        cur = self._current.get(worker)
        if cur is None or cur[1] <= 0:
            e = self._pick()
            e.picks += 1
            cur = self._current[worker] = [e, 8 + min(24, 4 * e.found)]
        cur[1] -= 1
        return cur[0]

    def next_request(self, rid: int, worker: int = 0) -> dict:
        rng = self.rng
        case_seed = rng.getrandbits(32)
        if self.mode in BASELINES:
            s = self.seeds[rng.choice(sorted(self.seeds))]
            lst = P.default_pipeline() if rng.random() < 0.3 else None
            if lst is None:
                lst = [PM.random_call(rng) for _ in range(rng.randint(5, 50))]
            retarget = self.mode == "random-targets" and rng.random() < 0.5
            return Request(rid, s.script, P.to_json(lst), case_seed, seed_name=s.name, ir_mutations=int(retarget),
                           ir_mutated=False, timeout=self.case_timeout, origin="random", skip_seen_lowered=True,
                           op="random", mutators=["retarget"] if retarget else None).to_json()
        e = self._entry_for(worker)
        passes = P.from_json(e.passes)
        n_ir = rng.choice([1, 1, 2, 3])
        if self.mode == "full":
            r = rng.random()
            other = P.from_json(rng.choice(self.corpus).passes)
            # shares follow what found new coverage in short campaigns: IR (schedule primitives
            # above all) and joint mutation far more than pass lists alone
            if r < 0.15:  # deep pass-order exploration, pre-conditions mostly ignored
                n_ir, op = 0, "deep-passes"
                passes, _ = PM.mutate(passes, rng, other=other, n=rng.randint(3, 10), respect=0.3)
            elif r < 0.27:  # pass-list only
                n_ir, op = 0, "passes"
                passes, _ = PM.mutate(passes, rng, other=other, n=rng.choice([1, 1, 2, 3]))
            elif r < 0.65:  # joint
                op = "joint"
                passes, _ = PM.mutate(passes, rng, other=other, n=rng.choice([1, 1, 2, 3]))
            else:
                op = "ir"
        else:
            op = "ir"
        return Request(rid, e.text, P.to_json(passes), case_seed, seed_name=e.seed_name, ir_mutations=n_ir,
                       ir_mutated=e.ir_mutated, timeout=self.case_timeout, origin=e.id, skip_seen_lowered=True,
                       op=op).to_json()

    # ---------------------------------------------------------------- results
    def handle(self, req: dict, reply: dict) -> str | None:
        self.stats.execs += 1
        case = reply.get("case") or req["text"]
        v = classify(reply, req["passes"])
        found = None
        if v is not None:
            root = F.folder_for(self.out, v)
            path, new = F.write_finding(root, v, case=case, passes=req["passes"], seed=req["seed"],
                                        seed_name=req["seed_name"], reply=reply,
                                        default_passes=P.to_json(P.default_pipeline()),
                                        extra={"origin": req.get("origin"), "ir_mutations": req.get("ir_mutations", 0),
                                               "origin_passes_mutated": req["passes"] != P.to_json(P.default_pipeline())})
            self.stats.finding_hits += 1
            if v.kind == "hang":
                self.stats.hangs += 1
            elif v.kind.startswith("signal"):
                self.stats.crashes += 1
            key = f"{v.triage.cls}/{path.name}"
            self.hits[key] = self.hits.get(key, 0) + 1
            if v.triage.is_bug and v.kind != "hang":
                if new:
                    self.signatures[path.name] = 1
                    self.stats.findings = len(self.signatures)
                    found = path.name
                    if self.replay_findings:
                        self._replays.append((path, F.start_replay(path)))
            elif new:
                # a hang is kept apart under hangs/ whatever its class: counted as one, not as a bug
                cls = "hang" if v.kind == "hang" else v.triage.cls
                self.stats.triaged[cls] = self.stats.triaged.get(cls, 0) + 1
        for k, t in (reply.get("times") or {}).items():
            self.stats.stage_s[k] = round(self.stats.stage_s.get(k, 0.0) + t, 3)
        res = reply.get("result") or {}
        self.stats.builds_skipped += "build_skipped" in res
        if res.get("status") == "rejected":
            self.stats.rejected += 1
        if (v is not None and not v.triage.is_bug) or expected_error(reply):
            self.stats.expected_errors += 1
        op = self.stats.by_op.setdefault(req.get("op", "?"), [0, 0, 0])
        op[0] += 1
        op[1] += (reply.get("new_cov") or [0])[0]
        if self.mode in BASELINES:
            return found
        new_sem = set(res.get("signal") or []) - self.semantic
        self.semantic |= new_sem
        new_cov = sum(reply.get("new_cov") or [0, 0])
        if res.get("input_unparsable"):
            # mutated IR enters the corpus unparsed (a parse costs more than most cases); what
            # does not parse back is dropped the first time a child tries
            self._drop_corpus(req.get("origin") or "")
        if (new_cov > 0 or new_sem) and res.get("status") not in (None, "rejected") and v is None:
            if self._add_corpus(req["seed_name"], case, req["passes"],
                                bool(reply.get("applied")) or bool(req.get("ir_mutated")), new_cov):
                op[2] += 1
                origin = self._by_id.get(req.get("origin") or "")
                if origin is not None:
                    origin.found += 1
        return found

    def write_stats(self) -> dict:
        from .coverage.tracer import PIPELINE, read_bitmap

        self._poll_replays()
        split = getattr(self, "_split", None)
        if split is not None:
            self.stats.cov_own, self.stats.cov_other = read_bitmap(self.out / "coverage.bitmap", split)
            stages = read_bitmap(self.out / "stages.bitmap", split, PIPELINE)
            self.stats.cov_pipeline_own, self.stats.cov_pipeline_other = stages
        self.stats.semantic = len(self.semantic)
        if self._pool is not None:
            self.stats.workers = self._merge_workers(self._pool.workers())
        d = dict(self.stats.__dict__)
        d["elapsed"] = self.elapsed()
        d["execs_per_s"] = self.stats.execs / max(1e-9, time.time() - self.stats.start)
        F.atomic_write(self.out / "stats.json", json.dumps(d, indent=1))
        F.atomic_write(self.out / "semantic.json", json.dumps(sorted(self.semantic)))
        with open(self.out / "plot_data.csv", "a") as f:
            f.write(f"{d['elapsed']:.2f},{self.stats.execs},{self.stats.cov_own},{self.stats.cov_other},"
                    f"{self.stats.semantic},{self.stats.findings},{self.stats.cov_pipeline_own},"
                    f"{self.stats.cov_pipeline_other}\n")
        return d

    def _merge_workers(self, now: dict[str, dict]) -> dict[str, dict]:
        """This run's workers over the runs before (a resumed campaign adds to their ``execs``)."""
        merged = {w: dict(d) for w, d in self._workers_before.items()}
        for w, d in now.items():
            merged[w] = {**d, "execs": merged.get(w, {}).get("execs", 0) + d["execs"]}
        return merged

    def _make_pool(self):
        kw = dict(bitmap=str(self.out / "coverage.bitmap") if self.coverage else None, coverage=self.coverage,
                  log_dir=self.out / "logs")
        if self.ray is None:
            return WorkerPool(self.workers, lowered=str(self.out / "lowered.bitmap"),
                              semantic=str(self.out / "semantic.bitmap"), **kw)
        from .cluster import RayPool

        pool = RayPool(self.workers or 0, address=self.ray, **kw)
        if pool.n != self.workers:  # 0 asked for one worker per slot of the cluster
            self.workers = self._meta["workers"] = pool.n
            F.atomic_write(self.out / "meta.json", json.dumps(self._meta, indent=1))
        return pool

    def _poll_replays(self, wait: bool = False) -> None:
        left = []
        for path, proc in self._replays:
            if wait or proc.poll() is not None:
                F.finish_replay(path, proc)
            else:
                left.append((path, proc))
        self._replays = left

    def elapsed(self) -> float:
        return self.stats.elapsed_before + time.time() - self.stats.start

    def status_line(self) -> str:
        s = self.stats
        rate = s.execs / max(1e-9, time.time() - s.start)
        # unique findings and, inside them, unique crashes; cases that hit a verdict are counted apart
        # (one signature hit by many cases made "findings 11 (crashes 6)" read as if it were 6 crashes)
        crashes = sum(name.startswith("signal-") for name in self.signatures)
        return (f"[{self.elapsed():7.1f}s] execs {s.execs} ({rate:.1f}/s)  cov tvm {s.cov_own} llvm {s.cov_other} "
                f"(pipeline {s.cov_pipeline_own}/{s.cov_pipeline_other})  "
                f"sem {len(self.semantic)}  corpus {len(self.corpus)}  findings {s.findings} (crashes {crashes})  "
                f"hits {s.finding_hits}  hangs {s.hangs}  rejected {s.rejected}  expected {s.expected_errors}")

    # ---------------------------------------------------------------- main loop
    def stop(self) -> None:
        """End :meth:`run` early, as its budget would (from another thread: a signal handler, a test)."""
        self._stop = True

    def run(self, budget_s: float, *, max_execs: int | None = None, live: bool = True) -> dict:
        pool = self._pool = self._make_pool()
        self._split = pool.info.get("split") if self.coverage else None
        deadline = time.time() + budget_s
        rid = self.stats.execs
        last = 0.0
        live_ctx = None
        if live:
            from rich.console import Console
            from rich.live import Live

            # stdout holds results only (the CLI's summary): the live line is drawn on stderr
            live_ctx = Live(self.status_line(), console=self.console or Console(stderr=True), refresh_per_second=2,
                            transient=False)
            live_ctx.start()
        try:
            while time.time() < deadline and not self._stop and (max_execs is None or rid < max_execs):
                for i in pool.idle():
                    if max_execs is not None and rid >= max_execs:
                        break
                    rid += 1
                    pool.submit(i, self.next_request(rid, i))
                for req, reply in pool.collect(timeout=0.2):
                    self.handle(req, reply)
                if time.time() - last >= 1.0:
                    last = time.time()
                    self.write_stats()
                    if live_ctx:
                        live_ctx.update(self.status_line())
            # let the cases in flight finish: their findings count (a case may run twice, fresh, after
            # a crash, or again with HANG_CONFIRM times the time after a timeout; past that a lost node
            # or a stuck restart does not hold the campaign)
            drain_until = time.time() + (1 + HANG_CONFIRM) * self.case_timeout + 60
            while pool.busy and time.time() < drain_until:
                for req, reply in pool.collect(timeout=self.case_timeout + 5):
                    self.handle(req, reply)
        finally:
            self.stats.workers = self._merge_workers(pool.workers())
            pool.close()
            self._pool = None
            self._poll_replays(wait=True)
            stats = self.write_stats()
            if live_ctx:
                live_ctx.update(self.status_line())
                live_ctx.stop()
        return stats
