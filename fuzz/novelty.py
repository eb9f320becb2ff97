"""What a campaign has already seen, shared by every worker and child: lowered modules that were
built, and semantic signals.  Both are file-backed byte tables (one byte per hash bucket) in the
campaign folder, so they survive ``--resume`` and cost a fork nothing.

:class:`BuildGate` decides, inside a child, whether a lowered module goes on to code generation
and the differential: never twice for one module, and for modules whose lowering showed nothing
new only on a sample (LLVM code generation is most of a case's cost).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import random


def stable_hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


class SeenSet:
    """A shared table of 64-bit hashes (false positives about n / 2**23)."""

    SIZE = 1 << 23

    def __init__(self, path: str | os.PathLike | None):
        if path:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_size < self.SIZE:
                    os.ftruncate(fd, self.SIZE)
                self.map = mmap.mmap(fd, self.SIZE, mmap.MAP_SHARED)
            finally:
                os.close(fd)
        else:
            self.map = mmap.mmap(-1, self.SIZE, mmap.MAP_SHARED)

    def add(self, h: int) -> bool:
        """Mark ``h``; whether it was new."""
        i = h % self.SIZE
        if self.map[i]:
            return False
        self.map[i] = 1
        return True


class BuildGate:
    """Per case: lowered modules built before are skipped; a new one is built when the case
    reached new code before code generation (coverage), else with
    probability ``sample`` (``sample_fresh_ir`` when the IR was mutated in this very case: new
    expressions reach code generation that no pass needed to look at)."""

    def __init__(self, lowered: SeenSet, semantic: SeenSet, new_coverage, *, sample: float,
                 sample_fresh_ir: float, rng_seed: int):
        self.lowered, self.semantic, self.new_coverage = lowered, semantic, new_coverage
        self.sample, self.sample_fresh_ir = sample, sample_fresh_ir
        self.rng = random.Random(rng_seed)
        self.novel = False

    def signals(self, signal: set[str]) -> None:
        for s in signal:
            if self.semantic.add(stable_hash(s)):
                self.novel = True

    def build(self, lowered_hash: int, fresh_ir: bool) -> str | None:
        """None to build, else why not."""
        if self.lowered.map[lowered_hash % SeenSet.SIZE]:
            return "lowered module built before"
        p = self.sample_fresh_ir if fresh_ir else self.sample
        # semantic novelty alone is too common to pay a build for: it feeds the corpus, not this
        if not (self.new_coverage() or self.rng.random() < p):
            return "nothing new before code generation (not sampled)"
        self.lowered.add(lowered_hash)
        return None
