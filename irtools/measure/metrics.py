"""Efficiency metrics from instruction counts.

All functions are pure: they take counts (integers, as ``Measurement.instructions`` gives) and
correctness flags, never run anything.

References
----------
* Chen et al. 2021, "Evaluating Large Language Models Trained on Code" (arXiv:2107.03374),
  section 2.1: the unbiased pass@k estimator ``1 - C(n-c, k) / C(n, k)`` over n samples of
  which c pass, computed as a product for numerical stability.
* Peng, Wan, Li, Ren 2025, "COFFE: A Code Efficiency Benchmark for Code Generation"
  (arXiv:2502.02827; FSE 2025), the efficient@k metric: a sample counts as *efficient* when it
  is correct and its CPU instruction count is lower than that of the (best) ground-truth
  solution; efficient@k is the pass@k estimator applied to efficient samples.
* Liu, Xie, Wang, Wei, Ding, Zhang 2024, "Evaluating Language Models for Efficient Code
  Generation" (COLM 2024, arXiv:2408.06450), Differential Performance Evaluation: reference
  solutions are profiled by instruction count, sorted slow to fast and split into clusters
  where the relative gap between neighbours exceeds a threshold; each cluster scores the
  cumulative percentage of references in it and in the slower clusters.  A correct solution
  gets the score of the fastest cluster whose slowest member it is not slower than (DPS),
  or ``100 * (j + 1) / #clusters`` for that cluster's rank j (DPS_norm); slower than every
  cluster, or broken, scores 0.  The clustering rule follows the authors' code
  (evalplus ``perf/select_pe_tasks.py: adaptive_seg1d``, ``evalperf.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# EvalPerf's MIN_REQUIRED_NUM_INSTRUCTION (evalplus perf/config.py): the weight of the
# size-dependent part of the split threshold, so small counts need bigger gaps to split.
EVALPERF_WEIGHT = 10_000
EVALPERF_BASE_THRESHOLD = 0.10


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021, §2.1): probability that k of n samples include a success.

    ``k > n`` is answered as if all n samples were drawn (the estimator is undefined there; this
    is what drawing "at most k" gives): 1.0 when any sample succeeded, else 0.0.
    """
    if n < 0 or c < 0 or k < 1 or c > n:
        raise ValueError(f"pass@k needs 0 <= c <= n and k >= 1 (n={n}, c={c}, k={k})")
    if c == 0:
        return 0.0
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):  # C(n-c,k)/C(n,k) = prod_{i=n-c+1}^{n} (1 - k/i)
        prod *= 1.0 - k / i
    return 1.0 - prod


def is_efficient(correct: bool, count, reference_counts) -> bool:
    """COFFE's efficiency test: correct and strictly fewer instructions than the best reference.

    ``count`` is one count, or one per test input (then every input must be strictly faster than
    the best reference on that input).  A tie is not efficient.  A failed sample (``count`` None)
    is not efficient.
    """
    if not correct or count is None:
        return False
    refs = list(reference_counts)
    if not refs:
        raise ValueError("efficiency needs at least one reference count")
    if isinstance(count, (int, float)):
        return count < min(refs)
    per_input = list(count)
    best = [min(col) for col in zip(*refs, strict=True)]
    if len(best) != len(per_input):
        raise ValueError("per-input counts and reference counts have different lengths")
    return all(x < b for x, b in zip(per_input, best, strict=True))


def efficient_at_k(correct: Sequence[bool], counts: Sequence, reference_counts, k: int) -> float:
    """COFFE efficient@k over n samples of one task: pass@k with c = number of efficient samples."""
    if len(correct) != len(counts):
        raise ValueError("correct and counts must have one entry per sample")
    c = sum(is_efficient(ok, n, reference_counts) for ok, n in zip(correct, counts, strict=True))
    return pass_at_k(len(correct), c, k)


def speedup_ratio_of_sums(baseline: Sequence[float], candidate: Sequence[float]) -> float:
    """sum(baseline) / sum(candidate): the total-work speed-up, dominated by the biggest tasks."""
    if len(baseline) != len(candidate) or not baseline:
        raise ValueError("speed-up needs two non-empty sequences of the same length")
    total = sum(candidate)
    if total <= 0:
        raise ValueError("candidate counts sum to zero: speed-up undefined")
    return sum(baseline) / total


def speedup_geomean(baseline: Sequence[float], candidate: Sequence[float]) -> float:
    """Geometric mean of per-task ratios baseline/candidate: every task weighs the same."""
    if len(baseline) != len(candidate) or not baseline:
        raise ValueError("speed-up needs two non-empty sequences of the same length")
    logs = []
    for b, c in zip(baseline, candidate, strict=True):
        if b <= 0 or c <= 0:
            raise ValueError(f"geometric mean of ratios needs positive counts (got {b}, {c})")
        logs.append(math.log(b / c))
    return math.exp(sum(logs) / len(logs))


@dataclass(frozen=True)
class Cluster:
    """References of similar cost.  ``representative`` is the slowest member (EvalPerf's choice)."""

    counts: tuple[float, ...]   # slow to fast
    score: float                # cumulative % of references in this and slower clusters

    @property
    def representative(self) -> float:
        return self.counts[0]


def split_threshold(x: float, base: float = EVALPERF_BASE_THRESHOLD, weight: float = EVALPERF_WEIGHT) -> float:
    """EvalPerf's gap threshold at count x: base + sqrt(weight / x) (small counts need bigger gaps)."""
    return base + math.sqrt(weight / x) if x > 0 else math.inf


def cluster_references(counts: Sequence[float], *, base: float = EVALPERF_BASE_THRESHOLD,
                       weight: float = EVALPERF_WEIGHT) -> list[Cluster]:
    """Cluster reference counts by relative gaps (EvalPerf ``adaptive_seg1d``), slow to fast.

    Sorted descending; a new cluster starts after position i when
    ``(a[i] - a[i+1]) / a[i] > base + sqrt(weight / a[i])``.
    """
    if not counts:
        raise ValueError("no reference counts to cluster")
    arr = sorted((float(x) for x in counts), reverse=True)
    groups: list[list[float]] = [[arr[0]]]
    for prev, cur in zip(arr[:-1], arr[1:], strict=True):
        rel = (prev - cur) / prev if prev > 0 else 0.0
        if rel > split_threshold(prev, base, weight):
            groups.append([])
        groups[-1].append(cur)
    out, acc = [], 0.0
    for g in groups:
        acc += 100.0 * len(g) / len(arr)
        out.append(Cluster(tuple(g), acc))
    return out


@dataclass(frozen=True)
class DPS:
    dps: float
    dps_norm: float
    cluster: int   # index of the matched cluster (0 = slowest), -1 when slower than all / broken


def dps(count: float | None, clusters: Sequence[Cluster], correct: bool = True) -> DPS:
    """EvalPerf's Differential Performance Score of one solution against clustered references.

    Searches from the fastest cluster down; the first whose representative (slowest member) the
    solution is not slower than gives DPS = its cumulative score and DPS_norm = 100 (j+1)/#clusters.
    """
    if not clusters:
        raise ValueError("DPS needs at least one reference cluster")
    if not correct or count is None:
        return DPS(0.0, 0.0, -1)
    for j in range(len(clusters) - 1, -1, -1):
        if count <= clusters[j].representative:
            return DPS(clusters[j].score, 100.0 * (j + 1) / len(clusters), j)
    return DPS(0.0, 0.0, -1)


def dps_task(counts: Sequence[float | None], correct: Sequence[bool], reference_counts: Sequence[float],
             **cluster_kw) -> tuple[float | None, float | None]:
    """Mean DPS and DPS_norm over the correct samples of one task (None when none is correct),
    as EvalPerf averages per task."""
    clusters = cluster_references(reference_counts, **cluster_kw)
    scores = [dps(n, clusters, ok) for n, ok in zip(counts, correct, strict=True) if ok]
    if not scores:
        return None, None
    return (sum(s.dps for s in scores) / len(scores), sum(s.dps_norm for s in scores) / len(scores))
