"""Workloads for ``count_overhead.py`` (importable by the measuring process)."""

from __future__ import annotations

import random


def ints(n):
    rng = random.Random(3)
    return ([rng.randrange(1 << 20) for _ in range(n)],)


def py_loop(xs):
    total = 0
    for x in xs:
        total += x * x
    return total


def py_sort(xs):
    return sorted(xs)[len(xs) // 2]


def empty():
    return None


LOOP_C = r"""
#include <stdint.h>
int64_t spin(int64_t n) {
    int64_t s = 0;
    for (int64_t i = 0; i < n; i++) {
        s += i ^ (s >> 3);
        __asm__ volatile("" : "+r"(s));
    }
    return s;
}
"""
