"""The fork server's child side: a persistent child runs case after case (:class:`_Case`), each
through :func:`irtoolkit.fuzz.tvm.execute.run_case`, and reports its stage through a shared page."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import TYPE_CHECKING

from .coverage.tracer import FRONT, ORACLE, PIPELINE, set_class
from .protocol import Stage

if TYPE_CHECKING:
    from .server import Server

# What kind of work each stage is, for the pipeline-only coverage figure: the compile pipeline
# (the pass list, the default pipeline it is compared with, code generation), the fuzzer's oracles
# (verifiers, running the built code), or its front (parsing, mutation, printing: the default).
_CLASS = {Stage.PASS.value: PIPELINE, Stage.LOWER_DEFAULT.value: PIPELINE, Stage.CODEGEN.value: PIPELINE,
          Stage.JIT.value: PIPELINE, Stage.CODEGEN_DEFAULT.value: PIPELINE,
          Stage.VERIFY.value: ORACLE, Stage.RUN.value: ORACLE, Stage.RUN_DEFAULT.value: ORACLE}

CASES_PER_CHILD = 200   # a persistent child is replaced after this many cases ...
CHILD_RSS_MB = 1500     # ... or once it has grown this big (JIT'd code, caches)
PARSED_LRU = 256
BUILD_SAMPLE = (0.1, 0.2)  # share of new lowered modules with nothing else new that still go
                           # through codegen: (pass-list mutants, IR mutated in the case)


class _Case:
    """Runs requests inside a persistent child; its caches live as long as the child."""

    def __init__(self, send, stage_buf, server: Server):
        from .tvm.execute import DefaultCache

        self.send, self.stage_buf, self.server = send, stage_buf, server
        self.parsed: dict[str, object] = dict(server.seed_funcs)
        self.defaults = DefaultCache()

    def parse(self, text: str):
        from .mutate.ir import parse

        func = self.parsed.pop(text, None)
        if func is None:
            func = parse(text)
        self.parsed[text] = func
        while len(self.parsed) > PARSED_LRU:
            self.parsed.pop(next(iter(self.parsed)))
        return func

    def _new_coverage(self) -> bool:
        tr = self.server.tracer
        return tr is not None and sum(tr.counters()) > 0

    def __call__(self, req: dict) -> dict:
        """Run one request; returns the final message (result, times, round trip)."""
        from .mutate.ir import mutate_func
        from .novelty import BuildGate
        from .tvm import passes as P
        from .tvm.execute import run_case
        from .tvm.seeds import reference

        times: dict[str, float] = {}
        cpu0 = time.process_time()
        mark = [time.monotonic(), "parse"]

        def stage(name):
            set_class(_CLASS.get(name.split(":", 1)[0], FRONT))
            now = time.monotonic()
            key = mark[1].split(":")[0]
            times[key] = round(times.get(key, 0.0) + now - mark[0], 4)
            mark[:] = [now, name]
            b = name.encode()[:4000]
            self.stage_buf[2:2 + len(b)] = b
            self.stage_buf[0:2] = len(b).to_bytes(2, "little")

        if req.get("inject_signal") or req.get("inject_sleep"):  # test hooks, kept out of the production closure
            stage = _injecting(stage, int(req.get("inject_signal") or 0), float(req.get("inject_sleep") or 0))
        stage("parse")
        text = req["text"]
        applied: list[str] = []
        try:
            func = self.parse(text)
        except Exception as e:  # noqa: BLE001 - an unparsable input is a clean rejection
            self.send({"case": text, "applied": []})
            return {"result": {"status": "rejected", "input_unparsable": True,
                               "error": {"message": str(e)[-2000:]}, "signal": []}}
        stage("mutate")
        if req.get("ir_mutations", 0) > 0:
            func, text, applied = mutate_func(func, text, req["seed"], req["ir_mutations"],
                                              check=req.get("check_roundtrip", False), only=req.get("mutators"))
        self.send({"case": text, "applied": applied})
        gate = None
        if req.get("skip_seen_lowered"):
            gate = BuildGate(self.server.lowered, self.server.semantic, self._new_coverage,
                             sample=BUILD_SAMPLE[0], sample_fresh_ir=BUILD_SAMPLE[1], rng_seed=req["seed"])
        ir_mutated = bool(applied) or bool(req.get("ir_mutated"))
        res = run_case(text, P.from_json(req["passes"]), stage=stage, rng_seed=req["seed"],
                       reference=reference(req.get("seed_name", "")), ir_mutated=ir_mutated,
                       differential=req.get("differential", True), func=func,
                       fresh_ir=bool(applied), gate=gate, defaults=self.defaults,
                       facts=lambda f: self.send({"facts": f}))
        stage("done")
        times["cpu"] = round(time.process_time() - cpu0, 4)  # the wall times above move with the load
        return {"result": res, "times": times}


def _injecting(stage, sig: int, sleep: float = 0.0):
    """Tests only: ``stage`` that, at the first pass, sleeps ``sleep`` seconds, then delivers a real
    signal ``sig`` (if any) to this child."""
    def hooked(name):
        stage(name)
        if name.startswith("pass:0:"):
            time.sleep(sleep)
            if sig:
                os.kill(os.getpid(), sig)
    return hooked


def _child_loop(rfd: int, wfd: int, stage_buf, server: Server, max_cases: int) -> None:
    """Body of a forked child: serve up to ``max_cases`` requests, then exit; never returns."""
    import resource

    def send(obj):
        data = (json.dumps(obj) + "\n").encode()
        while data:
            n = os.write(wfd, data)
            data = data[n:]

    case = _Case(send, stage_buf, server)
    line = b""
    for n in range(max_cases):
        while not line.endswith(b"\n"):
            chunk = os.read(rfd, 1 << 16)
            if not chunk:
                os._exit(0)
            line += chunk
        req = json.loads(line)
        line = b""
        retire = n + 1 >= max_cases
        try:
            final = case(req)
        except BaseException as e:  # noqa: BLE001 - the child reports everything
            import traceback

            final = {"harness_error": f"{type(e).__name__}: {e}\n{traceback.format_exc()[-3000:]}"}
            retire = True  # whatever state that left behind is not inherited by the next case
        sys.stderr.flush()
        retire = retire or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 > CHILD_RSS_MB
        send({**final, "done": True, "retire": retire})
        if retire:
            os._exit(0)
    os._exit(0)

