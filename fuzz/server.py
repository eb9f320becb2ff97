"""The fork server: ``python -m irtoolkit.fuzz.server`` imports TVM once, builds the seeds' references, arms
the int3 tracer on ``libtvm_compiler.so`` and then serves requests, one JSON line each on stdin;
cases run in a forked child (:mod:`irtoolkit.fuzz.child`; persistent: up to ``CASES_PER_CHILD`` cases each)
with a deadline per case, and the reply (one JSON line on stdout) says how the case ended, which
stage it had reached, what the oracles need, and how many new coverage sites it hit.  A child
that crashes, hangs or aborts never takes the server down.  The campaign side is
:class:`irtoolkit.fuzz.worker.WorkerPool`.
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import tempfile
import time

from .child import CASES_PER_CHILD, _child_loop
from .protocol import HANG_CONFIRM

STDERR_TAIL = 16000


class _Child:
    def __init__(self, pid: int, w: int, r: int, err):
        self.pid, self.w, self.r, self.err = pid, w, r, err  # err: the child's fd 2, a temp file
        self.cases = 0
        self.buf = b""

    def close(self, kill: bool = False, keep_err: bool = False) -> int:
        if kill:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for fd in (self.w, self.r):
            try:
                os.close(fd)
            except OSError:
                pass
        _, status = os.waitpid(self.pid, 0)
        if not keep_err:
            self.err.close()
        return status


class Server:
    """Fork server with persistent children: a child serves many cases (AFL's persistent mode), so
    fork, page copies, parses and the default pipeline's builds are paid once per child, not per
    case.  A case that kills a child which had already run others is run again in a fresh child,
    and that run is the one reported: a finding never depends on what an earlier case left.

    The stage a child is in lives in a shared page (a pipe message per pass cost more than the
    pass), so a crash or hang still says where it struck."""

    def __init__(self, bitmap: str | None, coverage: bool, lowered: str | None = None,
                 semantic: str | None = None, cases_per_child: int = CASES_PER_CHILD):
        import mmap

        os.environ.setdefault("TVM_NUM_THREADS", "1")
        import tvm  # noqa: F401  (imported once here, inherited by every child)

        from .mutate import ir
        from .novelty import SeenSet
        from .tvm.seeds import build_seeds

        seeds = build_seeds()
        self._warm_up(seeds[0])
        # every child starts with the seeds parsed (a fresh child after a crash would parse again)
        self.seed_funcs = {s.script: ir.parse(s.script) for s in seeds}
        self.cases_per_child = cases_per_child
        self.lowered, self.semantic = SeenSet(lowered), SeenSet(semantic)
        self.stage_buf = mmap.mmap(-1, 4096, mmap.MAP_SHARED)
        self.child: _Child | None = None
        self.tracer = None
        if coverage:
            from .coverage.tracer import Tracer

            self.tracer = Tracer("libtvm_compiler.so", bitmap)
        import gc

        gc.freeze()  # a child's collections never walk (and so copy) the pages the server built

    @staticmethod
    def _warm_up(seed) -> None:
        """Compile and run one seed here, before arming, so every child inherits an initialised
        LLVM (target registry, JIT) instead of paying for it per case."""
        from .tvm import passes as P
        from .tvm.execute import run_case
        from .tvm.seeds import reference

        run_case(seed.script, P.default_pipeline(), stage=lambda s: None, rng_seed=0, ir_mutated=False,
                 reference=reference(seed.name))

    def _fork(self, max_cases: int) -> _Child:
        err = tempfile.TemporaryFile()
        r_req, w_req = os.pipe()
        r_rep, w_rep = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(w_req)
                os.close(r_rep)
                os.dup2(err.fileno(), 2)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                _child_loop(r_req, w_rep, self.stage_buf, self, max_cases)
            finally:
                os._exit(3)
        os.close(r_req)
        os.close(w_rep)
        return _Child(pid, w_req, r_rep, err)

    def run(self, req: dict) -> dict:
        reply = self._run_once(req, bool(req.get("fresh")))
        kind = reply["exit"]["kind"]
        if (kind == "signal" and reply.get("prior_cases")) or kind == "hang":
            # a signal after other cases may be their leftovers, and a case past its timeout on a loaded
            # machine may only be slow: run it again, alone (a hang with HANG_CONFIRM times the time)
            if kind == "hang":
                req = {**req, "timeout": float(req.get("timeout", 10.0)) * HANG_CONFIRM}
            again = self._run_once(req, True)
            again["new_cov"] = [a + b for a, b in zip(again["new_cov"], reply["new_cov"], strict=True)]
            again["rerun_of"] = reply["exit"]
            reply = again
        return reply

    def _stage(self) -> str | None:
        n = int.from_bytes(self.stage_buf[0:2], "little")
        return self.stage_buf[2:2 + n].decode(errors="replace") if n else None

    def _run_once(self, req: dict, fresh: bool) -> dict:
        timeout = float(req.get("timeout", 10.0))
        if self.tracer:
            self.tracer.reset_counters()
        self.stage_buf[0:2] = b"\0\0"
        t0 = time.monotonic()
        if fresh and self.child is not None:
            self.child.close(kill=True)
            self.child = None
        if self.child is None:
            self.child = self._fork(1 if fresh else self.cases_per_child)
        ch = self.child
        prior = ch.cases
        ch.cases += 1
        err_fd = ch.err.fileno()
        err_start = os.fstat(err_fd).st_size
        data = (json.dumps(req) + "\n").encode()
        msgs, deadline, hung, done, dead = [], t0 + timeout, False, None, False
        try:
            while data:
                data = data[os.write(ch.w, data):]
        except BrokenPipeError:
            dead = True
        while done is None and not dead:
            while b"\n" in ch.buf:
                line, ch.buf = ch.buf.split(b"\n", 1)
                try:
                    m = json.loads(line)
                except ValueError:
                    continue
                if "done" in m:
                    done = m
                    break
                msgs.append(m)
            if done is not None:
                break
            left = deadline - time.monotonic()
            if left <= 0:
                hung = True
                break
            ready, _, _ = select.select([ch.r], [], [], left)
            if not ready:
                continue
            chunk = os.read(ch.r, 1 << 16)
            if not chunk:
                dead = True
                break
            ch.buf += chunk
        elapsed = time.monotonic() - t0
        status = 0
        if hung or dead or done.get("retire"):
            status = ch.close(kill=True, keep_err=True)  # a dying child may still be writing its backtrace
            self.child = None
        err_end = os.fstat(err_fd).st_size
        lo = max(err_start, err_end - STDERR_TAIL)
        stderr = os.pread(err_fd, err_end - lo, lo).decode(errors="replace")
        if self.child is None:
            ch.err.close()
        reply = {"id": req.get("id"), "elapsed": elapsed, "stderr": stderr, "case": None, "applied": [],
                 "stage": self._stage(), "result": None, "prior_cases": prior, "times": {}}
        for m in msgs:
            if "case" in m:
                reply["case"], reply["applied"] = m["case"], m["applied"]
            if "facts" in m:    # sent before the passes: still here when the child died in one
                reply["facts"] = m["facts"]
        if done is not None:
            reply["result"] = done.get("result")
            reply["times"] = done.get("times", {})
            if "harness_error" in done:
                reply["harness_error"] = done["harness_error"]
        if hung:
            reply["exit"] = {"kind": "hang", "timeout": timeout}
        elif dead and os.WIFSIGNALED(status) and os.WTERMSIG(status) != signal.SIGKILL:
            reply["exit"] = {"kind": "signal", "signal": os.WTERMSIG(status),
                             "name": signal.Signals(os.WTERMSIG(status)).name}
        elif dead:
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
            reply["exit"] = {"kind": "exit", "code": code if code else 3}
        else:
            reply["exit"] = {"kind": "exit", "code": 3 if reply.get("harness_error") else 0}
        if self.tracer:
            own, other = self.tracer.counters()
            self.tracer.sync()
            reply["new_cov"] = [own, other]
        else:
            reply["new_cov"] = [0, 0]
        return reply

    def close(self) -> None:
        if self.child is not None:
            self.child.close(kill=True)
            self.child = None


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m irtoolkit.fuzz.server")
    ap.add_argument("--bitmap", default=None)
    ap.add_argument("--no-coverage", action="store_true")
    ap.add_argument("--lowered", default=None)
    ap.add_argument("--semantic", default=None)
    args = ap.parse_args(argv)
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints from TVM must not corrupt the protocol
    server = Server(args.bitmap, not args.no_coverage, args.lowered, args.semantic)
    info = {"ready": True, "pid": os.getpid()}
    if server.tracer:
        info.update(sites=len(server.tracer.table.starts), split=server.tracer.table.split)
    out.write(json.dumps(info) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        out.write(json.dumps(server.run(req)) + "\n")
    server.close()
    return 0



if __name__ == "__main__":
    sys.exit(main())
