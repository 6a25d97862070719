"""One convention for randomness: seeds in, child seeds for replications, Generators inside.

* A function that draws from one stream takes ``rng`` (keyword only): an int seed, a
  ``numpy.random.Generator`` or ``None``, normalised once with ``numpy.random.default_rng``.
* A function that runs replications (new years, seeds of a simulated check, sweep tasks)
  takes ``seeds``: a count ``n`` or the seeds themselves, and ``seed``: the root from which a
  count is expanded into ``n`` child seeds by :func:`child_seeds`. A replication's numbers
  then depend only on its own seed, never on how many ran or on which worker.
* Estimators keep scikit-learn's ``random_state``.

Nothing here keeps state; no module-level generator exists anywhere in the project.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["child_seeds", "seed_list"]


def child_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent seeds spawned from ``seed``: ``SeedSequence(seed).spawn(n)``.

    Each child is reduced to one 32-bit integer, so it can be printed, stored in a table
    and passed to ``simulate.run(..., seed=...)``. The first ``k`` children of ``seed`` are
    the same whatever ``n``, so a check on 20 seeds extends one on 10.

    Examples
    --------
    >>> child_seeds(0, 3) == child_seeds(0, 5)[:3]
    True
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"the number of seeds must be an integer >= 1, got {n!r}")
    children = np.random.SeedSequence(int(seed)).spawn(int(n))
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def seed_list(seeds: int | Sequence[int], *, seed: int = 0, name: str = "seeds") -> list[int]:
    """The seeds to run: a count expands into :func:`child_seeds` of ``seed``; a sequence is
    taken as it is (as integers).

    Examples
    --------
    >>> seed_list([3, 1, 4])
    [3, 1, 4]
    >>> len(seed_list(4, seed=7))
    4
    """
    if isinstance(seeds, bool):
        raise ValueError(f"{name} must be a count >= 1 or a sequence of integer seeds, got {seeds!r}")
    if isinstance(seeds, int | np.integer):
        if seeds < 1:
            raise ValueError(f"{name} must be a count >= 1 or a sequence of integer seeds, got {seeds!r}")
        return child_seeds(seed, int(seeds))
    try:
        out = [int(s) for s in seeds]
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a count >= 1 or a sequence of integer seeds, got {seeds!r}") from None
    if not out:
        raise ValueError(f"{name} must name at least one seed")
    return out
