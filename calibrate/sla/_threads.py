"""Run the parts of a kernel compiled with ``nogil=True`` in threads."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable

import numba


def thread_count(cap: int) -> int:
    """Threads to use: numba's setting (``NUMBA_NUM_THREADS``, ``numba.set_num_threads``), at most ``cap``."""
    return max(1, min(numba.get_num_threads(), cap))


def in_threads(task: Callable[[int], object], parts: int) -> list:
    """``[task(0), .., task(parts - 1)]``, each part in its own thread (in this one if ``parts == 1``).

    The parts must write to their own outputs, so that the result does not depend on the
    order in which they run.
    """
    if parts <= 1:
        return [task(0)]
    with cf.ThreadPoolExecutor(parts) as pool:
        return list(pool.map(task, range(parts)))
