"""Campaigns on Ray: ``irtools fuzz --ray auto`` (a local Ray cluster) or ``--ray ADDRESS`` (join one).

Each fork-server worker is a Ray actor (:class:`FuzzActor`) that holds one fork server
(:class:`irtoolkit.fuzz.worker.WorkerPool` of one) on a node advertising the ``tvm`` resource
(``ray start --resources '{"tvm": N}'``; ``--ray auto`` gives the local node one slot per worker).
The actor also checks at start that the fork server came up (TVM imports, the tracer armed) and
reports its node.  :class:`RayPool` is the campaign's side: it has the same five verbs as
:class:`~irtoolkit.fuzz.worker.WorkerPool` (``idle``, ``submit``, ``collect``, ``busy``, ``close``), so the
engine's loop, corpus, oracles and findings are the ones of a local campaign.

What moves where:

- **Cases** go out one :class:`~irtoolkit.fuzz.protocol.Request` at a time; each reply comes back to the driver
  (the campaign process), which judges it and writes any finding before it looks at the next: a
  node that dies afterwards takes no reported finding with it.
- **Coverage.**  A node keeps its own bitmap (the tracer's shared file has to be local).  A reply
  carries the sites its case set first on that node; the driver keeps those the campaign had not
  seen (they, not the node's own counters, are the case's ``new_cov``), sets them in the campaign's
  ``coverage.bitmap`` and sends them to every other actor with its next case, so a site that one
  node has seen stops trapping on all of them.  A restarted actor (its reply names a new
  generation) is sent the whole bitmap once.
- **Lowered / semantic tables** (the build gate's memory, :mod:`irtoolkit.fuzz.novelty`) stay per actor: a
  module may be built once per node instead of once per campaign.
- **Failures.**  An actor whose process or node dies is restarted by Ray (``max_restarts=-1``); the
  case it was running is run again, fresh, on whichever worker is free first, and reported as
  ``server_died`` only if that run dies too.  An actor whose start fails (no TVM on its node) is
  dropped, and the campaign stops only when every worker has failed so.
"""

from __future__ import annotations

import collections
import mmap
import os
import shutil
import socket
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

from .worker import WorkerError, WorkerPool

TVM_RESOURCE = "tvm"
START_TIMEOUT_S = 600.0   # actors of a busy cluster may wait for a slot, and each imports TVM
LOG_TAIL = 256 * 1024
RERUNS = 1                # a case whose actor died is run once more before it counts as server_died


class ClusterError(WorkerError):
    """No usable Ray cluster: Ray missing, a bad address, no node with TVM."""


def _ray():
    # Ray 2.5x refuses to start or join without a token unless told that auth is off; a fuzz
    # cluster runs inside one trusted network (say so in the README), as the real-code builder's does
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    try:
        import ray
    except ModuleNotFoundError as e:
        raise ClusterError("Ray is not installed: pip install 'irtoolkit[ray]'") from e
    return ray


def connect(address: str, workers: int = 0) -> tuple[int, bool]:
    """Start (``"auto"``) or join (an address) a Ray cluster unless this process already has one;
    (workers to run, whether this call started Ray).  ``workers`` 0: one per ``tvm`` slot."""
    ray = _ray()
    started = False
    if not ray.is_initialized():
        opts = dict(include_dashboard=False, log_to_driver=False, logging_level="WARNING")
        try:
            if address == "auto":
                n = workers or os.cpu_count() or 1
                # this node has TVM (the CLI checked): it advertises one slot per worker.  "local", not
                # None: ray.init() would join the cluster last started on this machine, anyone's
                ray.init(address="local", num_cpus=max(n, os.cpu_count() or 1), resources={TVM_RESOURCE: n},
                         **opts)
            else:
                ray.init(address=address, **opts)
        except (ConnectionError, ValueError, RuntimeError) as e:
            raise ClusterError(f"cannot join the Ray cluster at {address}: {str(e).splitlines()[0]}") from e
        started = True
    slots = int(ray.cluster_resources().get(TVM_RESOURCE, 0))
    if slots == 0:
        raise ClusterError(f"no node of the Ray cluster advertises the {TVM_RESOURCE!r} resource: start the nodes "
                           f"that have TVM with ray start --resources '{{\"{TVM_RESOURCE}\": N}}'")
    if workers > slots:
        raise ClusterError(f"--workers {workers} but the Ray cluster has {slots} {TVM_RESOURCE!r} slots")
    return workers or slots, started


class FuzzActor:
    """One fork server on one node (the body of a Ray actor; plain Python, so it runs without Ray too)."""

    def __init__(self, wid: str, coverage: bool, seen: bytes | None = None):
        self.wid = wid
        self.gen = uuid.uuid4().hex   # a restart by Ray makes a new one: the driver then re-sends coverage
        _sweep()
        self.dir = Path(tempfile.mkdtemp(prefix=f"irtools-fuzz-{os.getpid()}-{wid}-"))
        bitmap = self.dir / "coverage.bitmap"
        if coverage and seen:
            bitmap.write_bytes(seen)  # armed without the sites the campaign has seen already
        try:
            self.pool = WorkerPool(1, bitmap=str(bitmap) if coverage else None, coverage=coverage, log_dir=self.dir,
                                   lowered=str(self.dir / "lowered.bitmap"), semantic=str(self.dir / "semantic.bitmap"))
        except WorkerError as e:
            log = self.log_tail()[-2000:]
            shutil.rmtree(self.dir, ignore_errors=True)
            raise WorkerError(f"{wid} on {socket.gethostname()}: {e}\n{log}") from None
        self.map = self.seen = self.last = None
        if coverage:
            fd = os.open(bitmap, os.O_RDWR)
            try:
                self.map = mmap.mmap(fd, self.pool.info["sites"])
            finally:
                os.close(fd)
            self.seen = np.frombuffer(self.map, np.uint8)
            self.last = self.seen.copy()

    def hello(self) -> dict:
        try:
            import ray

            node = ray.get_runtime_context().get_node_id()
            host = ray.util.get_node_ip_address()
        except Exception:  # outside Ray (tests of the class itself)
            node = host = socket.gethostname()
        return {"gen": self.gen, "node": node, "host": host, "pid": os.getpid(),
                "sites": self.pool.info.get("sites"), "split": self.pool.info.get("split")}

    def run(self, req: dict, sites) -> tuple[str, dict, list[int]]:
        """Run one case; ``sites`` the campaign saw elsewhere since the last call (indices, or the whole
        bitmap as bytes).  Returns (generation, reply, sites this case set first on this node)."""
        if self.seen is not None and sites is not None and len(sites):
            if isinstance(sites, bytes | bytearray):
                full = np.frombuffer(sites, np.uint8)[: len(self.seen)]
                self.seen[: len(full)] |= full
                self.last[: len(full)] |= full
            else:
                self.seen[sites] = 1
                self.last[sites] = 1
        self.pool.submit(0, req)
        got = []
        while not got:
            got = self.pool.collect(timeout=60.0)
        (_, reply), = got
        hits: list[int] = []
        if self.seen is not None:
            new = np.flatnonzero(self.seen != self.last)
            self.last[new] = 1
            hits = new.tolist()
        return self.gen, reply, hits

    def log_tail(self) -> str:
        try:
            data = (self.dir / "worker0.log").read_bytes()
        except OSError:
            return ""
        return data[-LOG_TAIL:].decode(errors="replace")

    def close(self) -> str:
        """Stop the fork server; the tail of its log (it lives on this node, the driver keeps a copy)."""
        self.pool.close()
        log = self.log_tail()
        if self.map is not None:
            self.seen = self.last = None
            self.map.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return log


class RayPool:
    """N :class:`FuzzActor` workers on a Ray cluster, with the verbs of :class:`~irtoolkit.fuzz.worker.WorkerPool`.
    ``bitmap`` is the campaign's coverage file; the driver owns it (see the module docstring)."""

    def __init__(self, n: int, *, address: str = "auto", bitmap: str | None, coverage: bool = True,
                 log_dir: str | Path | None = None):
        ray = self.ray = _ray()
        self.n, self.started_ray = connect(address, n)
        self.coverage = coverage and bitmap is not None
        self.log_dir = Path(log_dir) if log_dir else None
        self.wids = [f"w{i}" for i in range(self.n)]
        seen = Path(bitmap).read_bytes() if self.coverage and Path(bitmap).exists() else None
        if seen is not None:  # one copy per node through the object store, not one per actor from the driver
            seen = ray.put(seen)
        actor = ray.remote(num_cpus=1, resources={TVM_RESOURCE: 1}, max_restarts=-1, max_task_retries=0)(FuzzActor)
        self.actors = [actor.remote(w, self.coverage, seen) for w in self.wids]
        self.calls: dict = {}                 # ObjectRef -> (worker, request, attempt)
        self.running: dict[int, dict] = {}    # worker -> request in flight
        self.retries: collections.deque = collections.deque()  # (request, attempt) to run again
        self.pings: dict = {}                 # ObjectRef -> worker: waiting for a restarted actor
        self.down: dict[int, float] = {}      # worker -> when to ping it again (0: a ping is out)
        self.dead: dict[int, str] = {}        # worker -> why its actor could not start
        self.pending: list[list[int] | None] = [None] * self.n  # sites to send; None: the whole bitmap
        self.hello: list[dict] = [{} for _ in range(self.n)]
        self.execs = [0] * self.n
        self.restarts = [0] * self.n   # new actor generations seen (Ray restarted its process)
        self.rerun = [0] * self.n      # cases in flight when its actor died, run again elsewhere
        self.central = self._map = None
        self._start(ray)
        if self.coverage:
            self._open_bitmap(Path(bitmap), self.info["sites"])

    # ---------------------------------------------------------------- start-up
    def _start(self, ray) -> None:
        refs = {a.hello.remote(): i for i, a in enumerate(self.actors)}
        deadline = time.time() + START_TIMEOUT_S
        while refs and time.time() < deadline:
            ready, _ = ray.wait(list(refs), num_returns=1, timeout=max(0.1, deadline - time.time()))
            for ref in ready:
                i = refs.pop(ref)
                try:
                    self.hello[i] = ray.get(ref)
                except ray.exceptions.RayError as e:
                    self.dead[i] = _why(e)
        if refs:
            waiting = ", ".join(self.wids[i] for i in refs.values())
            self.close()
            raise ClusterError(f"workers {waiting} did not start within {START_TIMEOUT_S:.0f} s "
                               f"(no free node with the {TVM_RESOURCE!r} resource?)")
        if len(self.dead) == self.n:
            why = next(iter(self.dead.values()))
            self.close()
            raise ClusterError(f"no worker started: {why}")
        live = [h for h in self.hello if h]
        self.info = {"ready": True, "sites": live[0]["sites"], "split": live[0]["split"]}
        for i, h in enumerate(self.hello):
            if h and (h["sites"], h["split"]) != (self.info["sites"], self.info["split"]):
                self.close()
                raise ClusterError(f"node {h['host']} ({self.wids[i]}) has another libtvm_compiler.so "
                                   f"({h['sites']} function starts, {live[0]['host']} has {self.info['sites']}): "
                                   f"every node needs the same TVM wheel")

    def _open_bitmap(self, path: Path, sites: int) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size not in (0, sites):
                self.close()
                raise ClusterError(f"{path} has {size} sites, this TVM has {sites}: a campaign of another TVM")
            os.ftruncate(fd, sites)
            self._map = mmap.mmap(fd, sites)
        finally:
            os.close(fd)
        self.central = np.frombuffer(self._map, np.uint8)

    # ---------------------------------------------------------------- the pool's verbs
    @property
    def busy(self) -> dict[int, dict]:
        """Requests in flight (and, while any worker is up, those waiting to run again)."""
        if self.retries and any(i not in self.down and i not in self.dead for i in range(self.n)):
            return {**self.running, -1: self.retries[0][0]}
        return dict(self.running)

    def idle(self) -> list[int]:
        self._revive()
        free = self._free()
        while self.retries and free:
            req, attempt = self.retries.popleft()
            self._call(free.pop(0), req, attempt)
        return free

    def submit(self, i: int, req: dict) -> None:
        self._call(i, req, 0)

    def collect(self, timeout: float) -> list[tuple[dict, dict]]:
        self.idle()   # cases waiting to run again go out before we wait
        refs = list(self.calls) + list(self.pings)
        if not refs:
            time.sleep(min(timeout, 0.2))
            return []
        ready, rest = self.ray.wait(refs, num_returns=1, timeout=timeout)
        if ready and rest:
            more, _ = self.ray.wait(rest, num_returns=len(rest), timeout=0)
            ready += more
        out = []
        for ref in ready:
            if ref in self.pings:
                self._pong(ref)
            else:
                got = self._reply(ref)
                if got is not None:
                    out.append(got)
        return out

    def workers(self) -> dict[str, dict]:
        return {w: {"node": self.hello[i].get("node"), "host": self.hello[i].get("host"),
                    "pid": self.hello[i].get("pid"), "execs": self.execs[i], "restarts": self.restarts[i], "rerun": self.rerun[i],
                    "state": "failed" if i in self.dead else "down" if i in self.down else "up"}
                for i, w in enumerate(self.wids)}

    def close(self) -> None:
        ray = self.ray
        closing = {a.close.remote(): i for i, a in enumerate(self.actors)
                   if i not in self.dead and i not in self.down and self.hello[i]}
        ready, _ = ray.wait(list(closing), num_returns=len(closing), timeout=30) if closing else ([], [])
        for ref in ready:
            try:
                log = ray.get(ref)
            except ray.exceptions.RayError:
                continue
            if self.log_dir and log:
                (self.log_dir / f"{self.wids[closing[ref]]}.log").write_text(log)
        for a in self.actors:
            ray.kill(a, no_restart=True)
        self.actors = []
        if self._map is not None:
            self.central = None
            self._map.flush()
            self._map.close()
            self._map = None
        if self.started_ray:
            ray.shutdown()

    # ---------------------------------------------------------------- internals
    def _free(self) -> list[int]:
        return [i for i in range(self.n) if i not in self.running and i not in self.down and i not in self.dead]

    def _call(self, i: int, req: dict, attempt: int) -> None:
        sites = None
        if self.coverage:
            sites = bytes(self.central) if self.pending[i] is None else np.asarray(self.pending[i], np.int64)
            self.pending[i] = []
        # a case run again after its actor died runs in a fresh child, as the local server does
        ref = self.actors[i].run.remote({**req, "fresh": True} if attempt else req, sites)
        self.calls[ref] = (i, req, attempt)
        self.running[i] = req

    def _reply(self, ref) -> tuple[dict, dict] | None:
        ray = self.ray
        i, req, attempt = self.calls.pop(ref)
        self.running.pop(i, None)
        try:
            gen, reply, hits = ray.get(ref)
        except ray.exceptions.RayError as e:
            if isinstance(e, ray.exceptions.RayTaskError) and not isinstance(e, ray.exceptions.RayActorError):
                # the actor lives but its fork server could not be restarted: let Ray start it afresh
                ray.kill(self.actors[i], no_restart=False)
            self._lost(i, e)
            if attempt < RERUNS:
                self.rerun[i] += 1
                self.retries.append((req, attempt + 1))
                return None
            self.execs[i] += 1
            return req, {"id": req.get("id"), "exit": {"kind": "server_died"}, "stderr": _why(e), "case": None,
                         "result": None, "new_cov": [0, 0], "elapsed": 0}
        if gen != self.hello[i].get("gen"):   # restarted since its last reply: its bitmap is stale
            self.hello[i]["gen"] = gen
            self.restarts[i] += 1
            self.pending[i] = None
        self.execs[i] += 1
        if self.coverage:
            reply["new_cov"] = self._merge(i, hits)
        return req, reply

    def _merge(self, i: int, hits: list[int]) -> list[int]:
        """Keep the sites new to the campaign; queue them for the other actors; (TVM, LLVM) counts."""
        if not hits:
            return [0, 0]
        idx = np.asarray(hits, np.int64)
        idx = idx[(idx < len(self.central))]
        new = idx[self.central[idx] == 0]
        if not len(new):
            return [0, 0]
        self.central[new] = 1
        listed = new.tolist()
        for j in range(self.n):
            if j != i and self.pending[j] is not None:
                self.pending[j].extend(listed)
        own = int(np.count_nonzero(new < self.info["split"]))
        return [own, len(listed) - own]

    def _lost(self, i: int, err) -> None:
        self.pending[i] = None
        if getattr(err, "actor_init_failed", False):
            self.dead[i] = _why(err)
            if len(self.dead) == self.n:
                raise ClusterError(f"every worker failed: {self.dead[i]}")
        else:
            self.down[i] = 0.0
            self.pings[self.actors[i].hello.remote()] = i

    def _pong(self, ref) -> None:
        ray = self.ray
        i = self.pings.pop(ref)
        try:
            hello = ray.get(ref)
        except ray.exceptions.RayError as e:
            if getattr(e, "actor_init_failed", False):
                self.down.pop(i, None)
                self._lost(i, e)
            else:
                self.down[i] = time.time() + 2.0   # still restarting (or its node is gone): ask again later
            return
        self.restarts[i] += hello["gen"] != self.hello[i].get("gen")
        self.hello[i] = hello
        self.down.pop(i, None)
        self.pending[i] = None

    def _revive(self) -> None:
        now = time.time()
        for i, when in list(self.down.items()):
            if when and when <= now:
                self.down[i] = 0.0
                self.pings[self.actors[i].hello.remote()] = i


def _sweep() -> None:
    """Remove the folders (16 MB of tables each) of actors on this node whose process is gone: an actor
    killed by a signal or with its node cannot clean up after itself."""
    for d in Path(tempfile.gettempdir()).glob("irtools-fuzz-*-w*-*"):
        try:
            pid = int(d.name.split("-")[2])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except (ValueError, IndexError, PermissionError):
            continue


def _why(err) -> str:
    text = str(err).strip().splitlines()
    return next((line for line in reversed(text) if line.strip()), type(err).__name__)[:500]
