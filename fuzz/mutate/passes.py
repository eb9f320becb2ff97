"""Pass-list mutators: insert, delete, swap, replace, crossover, re-parameterise.

Pure Python over the catalogue of :mod:`irtoolkit.fuzz.tvm.passes`: every list they return holds only
catalogue entries with catalogue parameter values (``in_catalogue``).  ``respect`` biases
towards lists whose modelled pre-conditions hold (most of the time), so most cases reach
codegen and the differential oracle, while the rest probe passes out of order.
"""

from __future__ import annotations

import random

from ..tvm import passes as P


def random_call(rng: random.Random) -> P.PassCall:
    spec = P.CATALOGUE[rng.choice(sorted(P.CATALOGUE))]
    return P.call(spec.name, **{k: rng.choice(v) for k, v in spec.params.items()})


def insert(lst, rng, other=None):
    out = list(lst)
    out.insert(rng.randint(0, len(out)), random_call(rng))
    return out


def delete(lst, rng, other=None):
    if not lst:
        return list(lst)
    out = list(lst)
    del out[rng.randrange(len(out))]
    return out


def swap(lst, rng, other=None):
    if len(lst) < 2:
        return list(lst)
    out = list(lst)
    i = rng.randrange(len(out) - 1)
    j = min(len(out) - 1, i + rng.choice([1, 1, 2, 3]))
    out[i], out[j] = out[j], out[i]
    return out


def replace(lst, rng, other=None):
    if not lst:
        return insert(lst, rng)
    out = list(lst)
    out[rng.randrange(len(out))] = random_call(rng)
    return out


def reparam(lst, rng, other=None):
    idx = [i for i, pc in enumerate(lst) if P.CATALOGUE[pc[0]].params]
    if not idx:
        return replace(lst, rng)
    out = list(lst)
    i = rng.choice(idx)
    spec = P.CATALOGUE[out[i][0]]
    out[i] = P.call(spec.name, **{k: rng.choice(v) for k, v in spec.params.items()})
    return out


def duplicate(lst, rng, other=None):
    """Run one pass a second time later on (idempotence is a property passes are meant to have)."""
    if not lst:
        return insert(lst, rng)
    out = list(lst)
    i = rng.randrange(len(out))
    out.insert(rng.randint(i + 1, len(out)), out[i])
    return out


def crossover(lst, rng, other=None):
    if not other:
        return swap(lst, rng)
    a, b = rng.randint(0, len(lst)), rng.randint(0, len(other))
    return list(lst[:a]) + list(other[b:])


MUTATORS = {f.__name__: f for f in (insert, delete, swap, replace, reparam, duplicate, crossover)}


def mutate(lst: list, rng: random.Random, *, other: list | None = None, n: int = 1,
           respect: float = 0.8, tries: int = 20) -> tuple[list, list[str]]:
    """Apply ``n`` pass-list mutations.  With probability ``respect`` keep only results whose
    pre-conditions hold and that still reach codegen (when the input did)."""
    want_valid = rng.random() < respect
    base_ok = not P.check(lst)[0] and P.codegen_ready(lst)
    best, names = list(lst), []
    for _ in range(tries):
        cur, applied = list(lst), []
        for _ in range(n):
            name = rng.choice(sorted(MUTATORS))
            cur = MUTATORS[name](cur, rng, other)
            applied.append(name)
        best, names = cur, applied
        if not want_valid or not base_ok:
            break
        if not P.check(cur)[0] and P.codegen_ready(cur):
            break
    return best, names
