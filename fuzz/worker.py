"""Persistent fork-server workers.

``python -m fuzz.worker`` imports TVM once, builds the seeds' references, arms the int3
tracer on ``libtvm_compiler.so`` and then serves requests, one JSON line each on stdin; every
case runs in a forked child with a deadline, and the reply (one JSON line on stdout) says how
the child ended, which stage it had reached, what the oracles need, and how many new coverage
sites it hit.  A child that crashes, hangs or aborts never takes the server down.

The parent side is :class:`WorkerPool`.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STDERR_TAIL = 16000


def _child(req: dict, wfd: int, func=None) -> None:
    """Body of the forked child: never returns."""
    def send(obj):
        data = (json.dumps(obj) + "\n").encode()
        while data:
            n = os.write(wfd, data)
            data = data[n:]

    try:
        from .mutate.ir import mutate_func, parse
        from .tvm import passes as P
        from .tvm.execute import run_case
        from .tvm.seeds import reference

        text = req["text"]
        applied: list[str] = []
        if req.get("ir_mutations", 0) > 0:
            if func is None:
                try:
                    func = parse(text)
                except Exception as e:  # noqa: BLE001 - an unparsable input is a clean rejection
                    send({"case": text, "applied": [], "t": time.monotonic()})
                    send({"result": {"status": "rejected", "error": {"message": str(e)[-2000:]}, "signal": []},
                          "t": time.monotonic()})
                    os._exit(0)
            func, text, applied = mutate_func(func, text, req["seed"], req["ir_mutations"],
                                                check=req.get("check_roundtrip", False))
        send({"case": text, "applied": applied, "t": time.monotonic()})
        inject = req.get("inject_signal")

        def stage(name):
            send({"stage": name, "t": time.monotonic()})
            if inject and name.startswith("pass:0:"):
                os.kill(os.getpid(), int(inject))  # a real signal, delivered to this child

        ir_mutated = bool(applied) or bool(req.get("ir_mutated"))
        res = run_case(text, P.from_json(req["passes"]), stage=stage, rng_seed=req["seed"],
                       reference=reference(req.get("seed_name", "")), ir_mutated=ir_mutated,
                       differential=req.get("differential", True), func=func,
                       fresh_ir=bool(applied))
        send({"result": res, "t": time.monotonic()})
        os._exit(0)
    except BaseException as e:  # noqa: BLE001 - the child reports everything and exits
        try:
            import traceback

            send({"harness_error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-3000:]})
        finally:
            os._exit(3)


class Server:
    def __init__(self, bitmap: str | None, coverage: bool):
        os.environ.setdefault("TVM_NUM_THREADS", "1")
        import tvm  # noqa: F401  (imported once here, inherited by every child)

        from .mutate import ir  # noqa: F401  (imported here once, not in every child)
        from .tvm.seeds import build_seeds

        seeds = build_seeds()
        self._warm_up(seeds[0])
        self._parsed: dict[str, object] = {}
        self.tracer = None
        if coverage:
            from .coverage.tracer import Tracer

            self.tracer = Tracer("libtvm_compiler.so", bitmap)

    @staticmethod
    def _warm_up(seed) -> None:
        """Compile and run one seed here, before arming, so every child inherits an initialised
        LLVM (target registry, JIT) instead of paying for it per case."""
        from .tvm import passes as P
        from .tvm.execute import run_case

        run_case(seed.script, P.default_pipeline(), stage=lambda s: None, rng_seed=0, ir_mutated=True)

    def _parse(self, text: str):
        """Parse corpus entries once, here, so children start from the PrimFunc (LRU of 512)."""
        func = self._parsed.pop(text, None)
        if func is None:
            try:
                from .mutate.ir import parse

                func = parse(text)
            except Exception:  # the child parses again and reports the rejection
                return None
        self._parsed[text] = func
        while len(self._parsed) > 512:
            self._parsed.pop(next(iter(self._parsed)))
        return func

    def run(self, req: dict) -> dict:
        func = self._parse(req["text"])
        timeout = float(req.get("timeout", 10.0))
        err = tempfile.TemporaryFile()
        r, w = os.pipe()
        if self.tracer:
            self.tracer.reset_counters()
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            os.dup2(err.fileno(), 2)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _child(req, w, func)
        os.close(w)
        msgs, buf, deadline, hung = [], b"", t0 + timeout, False
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                hung = True
                os.kill(pid, signal.SIGKILL)
                break
            ready, _, _ = select.select([r], [], [], left)
            if not ready:
                continue
            chunk = os.read(r, 1 << 16)
            if not chunk:
                break
            buf += chunk
        os.close(r)
        _, status = os.waitpid(pid, 0)
        elapsed = time.monotonic() - t0
        for line in buf.split(b"\n"):
            if line.strip():
                try:
                    msgs.append(json.loads(line))
                except ValueError:
                    pass
        err.seek(0, 2)
        size = err.tell()
        err.seek(max(0, size - STDERR_TAIL))
        stderr = err.read().decode(errors="replace")
        err.close()
        reply = {"id": req.get("id"), "elapsed": elapsed, "stderr": stderr, "case": None, "applied": [],
                 "stage": None, "result": None}
        times, prev = {}, t0
        for m in msgs:
            if "t" in m:
                key = "mutate" if "case" in m else reply["stage"] or "start"
                key = key.split(":")[0]
                times[key] = round(times.get(key, 0.0) + m["t"] - prev, 4)
                prev = m["t"]
            if "case" in m:
                reply["case"], reply["applied"] = m["case"], m["applied"]
            elif "stage" in m:
                reply["stage"] = m["stage"]
            elif "result" in m:
                reply["result"] = m["result"]
            elif "harness_error" in m:
                reply["harness_error"] = m["harness_error"] + "\n" + m.get("traceback", "")
        reply["times"] = times
        if hung:
            reply["exit"] = {"kind": "hang", "timeout": timeout}
        elif os.WIFSIGNALED(status):
            reply["exit"] = {"kind": "signal", "signal": os.WTERMSIG(status),
                             "name": signal.Signals(os.WTERMSIG(status)).name}
        else:
            reply["exit"] = {"kind": "exit", "code": os.WEXITSTATUS(status)}
        if self.tracer:
            own, other = self.tracer.counters()
            self.tracer.sync()
            reply["new_cov"] = [own, other]
        else:
            reply["new_cov"] = [0, 0]
        return reply


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m fuzz.worker")
    ap.add_argument("--bitmap", default=None)
    ap.add_argument("--no-coverage", action="store_true")
    args = ap.parse_args(argv)
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints from TVM must not corrupt the protocol
    server = Server(args.bitmap, not args.no_coverage)
    info = {"ready": True, "pid": os.getpid()}
    if server.tracer:
        info.update(sites=len(server.tracer.table.starts), split=server.tracer.table.split)
    out.write(json.dumps(info) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        out.write(json.dumps(server.run(req)) + "\n")
    return 0


class WorkerError(RuntimeError):
    pass


class WorkerPool:
    """N fork servers; :meth:`submit` to an idle one, :meth:`collect` finished replies."""

    def __init__(self, n: int, *, bitmap: str | None, coverage: bool = True, log_dir: str | Path | None = None):
        self.n, self.bitmap, self.coverage = n, bitmap, coverage
        self.log_dir = Path(log_dir) if log_dir else None
        self.procs: list[subprocess.Popen | None] = [None] * n
        self.busy: dict[int, dict] = {}
        self.info: dict = {}
        for i in range(n):
            self._start(i)

    def _start(self, i: int) -> None:
        cmd = [sys.executable, "-m", "fuzz.worker"]
        if self.bitmap:
            cmd += ["--bitmap", self.bitmap]
        if not self.coverage:
            cmd.append("--no-coverage")
        log = open(self.log_dir / f"worker{i}.log", "ab") if self.log_dir else subprocess.DEVNULL
        root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   TVM_NUM_THREADS="1")
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
            if not line:  # the server itself died: report it as the case's crash and restart
                self.procs[i].wait()
                out.append((req, {"id": req.get("id"), "exit": {"kind": "server_died"}, "stderr": "",
                                  "case": None, "result": None, "new_cov": [0, 0], "elapsed": 0}))
                self._start(i)
                continue
            out.append((req, json.loads(line)))
        return out

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


if __name__ == "__main__":
    sys.exit(main())
