"""What a measurement pins so that its count does not move between runs.

Instruction counts move with the hash seed (dict/set layout), the garbage collector, JIT
compilation, the instruction set the JIT targets and the number of threads.  ``Pins`` holds the
values used and turns them into the environment of the measuring process; every result
records them.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS",
               "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "TVM_NUM_THREADS")

VOLATILE_VARS = ("PYTHONSTARTUP", "PYTEST_CURRENT_TEST", "COLUMNS", "LINES", "OLDPWD", "_")

# x86-64-v3 (AVX2, FMA, BMI2) is what valgrind 3.19 decodes in full; AVX-512 code dies there with
# SIGILL, and counts of code built for the host's own CPU would differ from machine to machine.
DEFAULT_X86_CPU = "x86-64-v3"
FALLBACK_X86_CPU = "x86-64"
_V3_FLAGS = {"avx", "avx2", "fma", "bmi1", "bmi2", "movbe", "f16c"}

TARGET_CPU_ENV = "IRTOOLS_TARGET_CPU"


def host_supports_v3() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return _V3_FLAGS <= set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return False


def default_target_cpu() -> str:
    """The JIT target CPU measurements pin: ``$IRTOOLS_TARGET_CPU`` or x86-64-v3 where the host has it."""
    env = os.environ.get(TARGET_CPU_ENV)
    if env:
        return env
    return DEFAULT_X86_CPU if host_supports_v3() else FALLBACK_X86_CPU


def target_cpu() -> str:
    """The target CPU JIT factories (llvmlite, TVM ``mcpu``) should build for inside a measurement."""
    return default_target_cpu()


@dataclass(frozen=True)
class Pins:
    hash_seed: int = 0
    threads: int = 1
    target_cpu: str = field(default_factory=default_target_cpu)
    # the LLVM feature string numba adds to the CPU name; numba otherwise uses the host's features
    target_features: str = "-avx512f"
    gc_disabled_in_region: bool = True
    warmup: int = 1

    def environment(self, base: dict[str, str] | None = None) -> dict[str, str]:
        env = dict(os.environ if base is None else base)
        env["PYTHONHASHSEED"] = str(self.hash_seed)
        for var in THREAD_VARS:
            env[var] = str(self.threads)
        env["NUMBA_CPU_NAME"] = self.target_cpu
        env["NUMBA_CPU_FEATURES"] = self.target_features
        env[TARGET_CPU_ENV] = self.target_cpu
        # Python-level noise sources that change the work done: bytecode writing, user site dirs
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        # variables that differ from call to call change the heap the measured code starts from
        for var in VOLATILE_VARS:
            env.pop(var, None)
        return env

    def to_dict(self) -> dict:
        return asdict(self)
