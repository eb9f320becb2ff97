"""Real implementations of three small tasks, from naive Python to the standard library to numba.

Used by ``efficiency_coffe.py``.  Each task has a setup function (builds the input outside the
measured region) and several solutions; one solution per task is deliberately wrong, so that
the correctness gate of efficient@k shows.
"""

from __future__ import annotations

import math
import random

# ---- task 1: sum of squares of a list of integers -----------------------------------------


def squares_input(n):
    rng = random.Random(1)
    return ([rng.randrange(1000) for _ in range(n)],)


def squares_input_np(n):
    import numpy as np

    return (np.array(squares_input(n)[0], dtype=np.int64),)


def squares_loop(xs):
    total = 0
    for x in xs:
        total += x * x
    return total


def squares_index_loop(xs):
    total = 0
    for i in range(len(xs)):
        total = total + xs[i] ** 2
    return total


def squares_builtin(xs):
    return sum(x * x for x in xs)


def squares_map(xs):
    return sum(map(int.__mul__, xs, xs))


def squares_math(xs):
    return math.sumprod(xs, xs) if hasattr(math, "sumprod") else sum(map(int.__mul__, xs, xs))


def squares_wrong(xs):   # skips the last element: fast and wrong
    return sum(x * x for x in xs[:-1])


def _numba_squares():
    from numba import njit

    @njit(cache=False)
    def squares(xs):
        total = 0
        for x in xs:
            total += x * x
        return total

    return squares


def squares_numba(xs):
    global _SQ
    try:
        fn = _SQ
    except NameError:
        fn = _SQ = _numba_squares()
    return int(fn(xs))


# ---- task 2: number of distinct values -----------------------------------------------------


def distinct_input(n):
    rng = random.Random(2)
    return ([rng.randrange(n // 2) for _ in range(n)],)


def distinct_input_np(n):
    import numpy as np

    return (np.array(distinct_input(n)[0], dtype=np.int64),)


def distinct_quadratic(xs):
    seen = []
    for x in xs:
        if x not in seen:
            seen.append(x)
    return len(seen)


def distinct_sorted(xs):
    ys = sorted(xs)
    return sum(1 for i, y in enumerate(ys) if i == 0 or y != ys[i - 1])


def distinct_set(xs):
    return len(set(xs))


def distinct_dict(xs):
    return len(dict.fromkeys(xs))


def distinct_wrong(xs):   # counts values seen exactly once
    from collections import Counter

    return sum(1 for c in Counter(xs).values() if c == 1)


def _numba_distinct():
    import numpy as np
    from numba import njit

    @njit(cache=False)
    def distinct(xs):
        ys = np.sort(xs)
        n = 1 if len(ys) else 0
        for i in range(1, len(ys)):
            if ys[i] != ys[i - 1]:
                n += 1
        return n

    return distinct


def distinct_numba(xs):
    global _DI
    try:
        fn = _DI
    except NameError:
        fn = _DI = _numba_distinct()
    return int(fn(xs))


# ---- task 3: primes below n ----------------------------------------------------------------


def primes_input(n):
    return (n,)


def primes_trial(n):
    out = []
    for k in range(2, n):
        if all(k % d for d in range(2, k)):
            out.append(k)
    return len(out)


def primes_trial_sqrt(n):
    out = []
    for k in range(2, n):
        if all(k % d for d in range(2, math.isqrt(k) + 1)):
            out.append(k)
    return len(out)


def primes_sieve(n):
    sieve = bytearray([1]) * n
    sieve[:2] = b"\0\0"
    for p in range(2, math.isqrt(n - 1) + 1):
        if sieve[p]:
            sieve[p * p::p] = bytes(len(range(p * p, n, p)))
    return sum(sieve)


def primes_wrong(n):      # forgets that 2 is prime
    return sum(1 for k in range(3, n, 2) if all(k % d for d in range(3, math.isqrt(k) + 1, 2)))


def _numba_primes():
    import numpy as np
    from numba import njit

    @njit(cache=False)
    def primes(n):
        sieve = np.ones(n, dtype=np.uint8)
        sieve[:2] = 0
        p = 2
        while p * p < n:
            if sieve[p]:
                sieve[p * p::p] = 0
            p += 1
        return sieve.sum()

    return primes


def primes_numba(n):
    global _PR
    try:
        fn = _PR
    except NameError:
        fn = _PR = _numba_primes()
    return int(fn(n))


# task -> (size, setup for Python, setup for numba, {name: (function, needs numba)}, reference names)
TASKS = {
    "sum_of_squares": (3000, "squares_input", "squares_input_np", {
        "loop": "squares_loop", "index_loop": "squares_index_loop", "genexpr_sum": "squares_builtin",
        "map_mul": "squares_map", "math_sumprod": "squares_math", "numba": "squares_numba",
        "wrong_skip_last": "squares_wrong"}, ["genexpr_sum"]),
    "distinct_count": (600, "distinct_input", "distinct_input_np", {
        "quadratic": "distinct_quadratic", "sorted_scan": "distinct_sorted", "set": "distinct_set",
        "dict_fromkeys": "distinct_dict", "numba": "distinct_numba", "wrong_singletons": "distinct_wrong"},
        ["sorted_scan"]),
    "primes_below": (600, "primes_input", "primes_input", {
        "trial_division": "primes_trial", "trial_sqrt": "primes_trial_sqrt", "sieve": "primes_sieve",
        "numba_sieve": "primes_numba", "wrong_no_two": "primes_wrong"}, ["trial_sqrt"]),
}
