"""Efficiency metrics on hand-computed cases, edge cases and properties."""

from __future__ import annotations

import math
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from irtools.measure import metrics as M


def brute_pass_at_k(n, c, k):
    """Fraction of k-subsets of n samples that contain a success (the quantity pass@k estimates)."""
    items = [1] * c + [0] * (n - c)
    subsets = list(combinations(range(n), k))
    return sum(any(items[i] for i in s) for s in subsets) / len(subsets)


def test_pass_at_k_hand_computed():
    assert M.pass_at_k(10, 3, 1) == pytest.approx(0.3)
    # 1 - C(7,5)/C(10,5) = 1 - 21/252
    assert M.pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)
    assert M.pass_at_k(10, 0, 5) == 0.0
    assert M.pass_at_k(10, 10, 1) == 1.0
    assert M.pass_at_k(10, 6, 5) == 1.0   # n - c < k: every 5-subset holds a success


def test_pass_at_k_k_greater_than_n():
    assert M.pass_at_k(3, 1, 10) == 1.0
    assert M.pass_at_k(3, 0, 10) == 0.0


@pytest.mark.parametrize("bad", [(5, 6, 1), (5, -1, 1), (5, 1, 0), (-1, 0, 1)])
def test_pass_at_k_rejects_impossible_counts(bad):
    with pytest.raises(ValueError):
        M.pass_at_k(*bad)


@given(st.integers(1, 9).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_at_k_matches_enumeration(nck):
    n, c, k = nck
    assert M.pass_at_k(n, c, k) == pytest.approx(brute_pass_at_k(n, c, k), abs=1e-12)


def test_efficient_is_strict_and_needs_correctness():
    refs = [1000, 800, 900]
    assert M.is_efficient(True, 799, refs)
    assert not M.is_efficient(True, 800, refs)        # a tie with the best reference is not efficient
    assert not M.is_efficient(False, 10, refs)        # wrong answers are never efficient
    assert not M.is_efficient(True, None, refs)       # crashed / timed out
    with pytest.raises(ValueError):
        M.is_efficient(True, 1, [])


def test_efficient_per_input_counts():
    refs = [[100, 200], [150, 150]]                   # two references, two inputs: best is [100, 150]
    assert M.is_efficient(True, [99, 149], refs)
    assert not M.is_efficient(True, [99, 150], refs)  # tie on one input


def test_efficient_at_k_hand_computed():
    refs = [500]
    correct = [True, True, False, True, True]
    counts = [400, 500, 100, 600, 499]                # efficient: 400, 499 -> c = 2 of n = 5
    assert M.efficient_at_k(correct, counts, refs, 1) == pytest.approx(0.4)
    assert M.efficient_at_k(correct, counts, refs, 2) == pytest.approx(1 - 3 / 10)
    assert M.efficient_at_k(correct, counts, refs, 10) == 1.0
    assert M.efficient_at_k([False] * 3, [1, 1, 1], refs, 1) == 0.0


def test_speedups():
    base, cand = [100, 1000], [50, 1000]
    assert M.speedup_ratio_of_sums(base, cand) == pytest.approx(1100 / 1050)
    assert M.speedup_geomean(base, cand) == pytest.approx(math.sqrt(2.0))
    assert M.speedup_geomean([7, 7], [7, 7]) == 1.0   # zero variance
    with pytest.raises(ValueError):
        M.speedup_geomean([1], [0])
    with pytest.raises(ValueError):
        M.speedup_ratio_of_sums([1, 2], [1])


@given(st.lists(st.integers(1, 10**9), min_size=1, max_size=20))
def test_speedup_of_itself_is_one(xs):
    assert M.speedup_geomean(xs, xs) == pytest.approx(1.0)
    assert M.speedup_ratio_of_sums(xs, xs) == pytest.approx(1.0)


def test_cluster_references_by_gaps():
    # thresholds: 0.1 + sqrt(1e4 / x) -> 0.2 at 1e6, 0.241 at 5e5; gaps 0.01, 0.495, 0.04, 0.79
    cl = M.cluster_references([100_000, 990_000, 500_000, 1_000_000, 480_000])
    assert [c.counts for c in cl] == [(1e6, 9.9e5), (5e5, 4.8e5), (1e5,)]
    assert [c.score for c in cl] == pytest.approx([40.0, 80.0, 100.0])
    assert cl[1].representative == 5e5


def test_cluster_small_counts_need_bigger_gaps():
    # 1000 -> 500 is a 50% gap, but at 1000 instructions the threshold is 0.1 + sqrt(10) > 3
    assert len(M.cluster_references([1000, 500])) == 1
    assert len(M.cluster_references([1000, 500], weight=0)) == 2


def test_cluster_identical_references_is_one_cluster():
    cl = M.cluster_references([5e6] * 4)              # zero variance
    assert len(cl) == 1 and cl[0].score == 100.0


def test_dps_hand_computed():
    cl = M.cluster_references([1e6, 9.9e5, 5e5, 4.8e5, 1e5])
    assert M.dps(4.9e5, cl) == M.DPS(80.0, pytest.approx(200 / 3), 1)
    assert M.dps(5e5, cl).cluster == 1                # a tie with the representative matches it
    assert M.dps(1e5, cl) == M.DPS(100.0, 100.0, 2)
    assert M.dps(2e6, cl) == M.DPS(0.0, 0.0, -1)      # slower than every reference
    assert M.dps(1.0, cl, correct=False) == M.DPS(0.0, 0.0, -1)
    assert M.dps(None, cl) == M.DPS(0.0, 0.0, -1)     # broken run


def test_dps_task_averages_correct_samples_only():
    refs = [1e6, 9.9e5, 5e5, 4.8e5, 1e5]
    mean, norm = M.dps_task([4.9e5, 2e6, 1.0], [True, True, False], refs)
    assert mean == pytest.approx((80 + 0) / 2)
    assert norm == pytest.approx((200 / 3 + 0) / 2)
    assert M.dps_task([1.0], [False], refs) == (None, None)


@given(st.lists(st.integers(10**4, 10**9), min_size=1, max_size=30), st.integers(1, 10**10))
def test_dps_is_monotone_in_count(refs, x):
    cl = M.cluster_references(refs)
    assert sum(len(c.counts) for c in cl) == len(refs)
    assert cl[-1].score == pytest.approx(100.0)
    faster = M.dps(x // 2, cl)
    slower = M.dps(x, cl)
    assert faster.dps >= slower.dps and faster.dps_norm >= slower.dps_norm
