"""The campaign side of the fork-server workers: :class:`WorkerPool` starts ``python -m irtoolkit.fuzz.server``
processes (:mod:`irtoolkit.fuzz.server`; their children: :mod:`irtoolkit.fuzz.child`), one per worker, sends them
requests (:class:`irtoolkit.fuzz.protocol.Request` as JSON) and collects the replies.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path


class WorkerError(RuntimeError):
    pass


class WorkerPool:
    """N fork servers; :meth:`submit` to an idle one, :meth:`collect` finished replies."""

    def __init__(self, n: int, *, bitmap: str | None, coverage: bool = True, log_dir: str | Path | None = None,
                 lowered: str | None = None, semantic: str | None = None):
        self.n, self.bitmap, self.coverage = n, bitmap, coverage
        self.lowered, self.semantic = lowered, semantic
        self.log_dir = Path(log_dir) if log_dir else None
        self.procs: list[subprocess.Popen | None] = [None] * n
        self.execs = [0] * n
        self.busy: dict[int, dict] = {}
        self.info: dict = {}
        for i in range(n):
            self._start(i)

    def _start(self, i: int) -> None:
        cmd = [sys.executable, "-m", "irtoolkit.fuzz.server"]
        if self.bitmap:
            cmd += ["--bitmap", self.bitmap]
        if not self.coverage:
            cmd.append("--no-coverage")
        if self.lowered:
            cmd += ["--lowered", self.lowered]
        if self.semantic:
            cmd += ["--semantic", self.semantic]
        log = open(self.log_dir / f"worker{i}.log", "ab") if self.log_dir else subprocess.DEVNULL
        # the server imports irtoolkit.fuzz from the installation this process runs from (same interpreter);
        # nothing is put on PYTHONPATH: the folder above fuzz/ (the checkout, or site-packages/irtoolkit
        # of a wheel) would make fuzz/ importable as a top-level package of its own
        env = dict(os.environ, TVM_NUM_THREADS="1")
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                             text=True, bufsize=1, start_new_session=True)
        line = p.stdout.readline()
        if not line:
            raise WorkerError(f"worker {i} failed to start (see worker{i}.log)")
        self.info = json.loads(line)
        self.procs[i] = p

    def idle(self) -> list[int]:
        return [i for i in range(self.n) if i not in self.busy]

    def submit(self, i: int, req: dict) -> None:
        self.busy[i] = req
        self.procs[i].stdin.write(json.dumps(req) + "\n")
        self.procs[i].stdin.flush()

    def collect(self, timeout: float) -> list[tuple[dict, dict]]:
        """(request, reply) pairs of the workers that finished within ``timeout`` seconds."""
        fds = {self.procs[i].stdout.fileno(): i for i in self.busy}
        if not fds:
            return []
        ready, _, _ = select.select(list(fds), [], [], timeout)
        out = []
        for fd in ready:
            i = fds[fd]
            line = self.procs[i].stdout.readline()
            req = self.busy.pop(i)
            self.execs[i] += 1
            if not line:  # the server itself died: report it as the case's crash and restart
                self.procs[i].wait()
                out.append((req, {"id": req.get("id"), "exit": {"kind": "server_died"}, "stderr": "",
                                  "case": None, "result": None, "new_cov": [0, 0], "elapsed": 0}))
                self._start(i)
                continue
            out.append((req, json.loads(line)))
        return out

    def workers(self) -> dict[str, dict]:
        """Worker id -> where it runs and how many cases it ran (``stats.json``'s ``workers``)."""
        import socket

        return {f"w{i}": {"node": socket.gethostname(), "execs": n} for i, n in enumerate(self.execs)}

    def close(self) -> None:
        for p in self.procs:
            if p and p.poll() is None:
                try:
                    p.stdin.close()
                except OSError:
                    pass
        for p in self.procs:
            if p:
                try:
                    p.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()




if __name__ == "__main__":  # the former entry point of the fork server
    from .server import main

    sys.exit(main())
