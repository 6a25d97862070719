"""Binary search on sorted arrays, callable from numba kernels.

One definition for the kernels of the queue engine (``simulate.queue``) and of the analytic
SLA model (``calibrate.sla``): where a calendar time falls among interval openings, which
threshold a score passes. Compiled with ``_nrt=False`` (no reference counting): it only reads
the array it is given, and the queue's event loop calls it millions of times.
"""

from __future__ import annotations

import numba

__all__ = ["search_right"]


@numba.njit(cache=True, _nrt=False)
def search_right(a, lo, hi, x):
    """First index in ``[lo, hi)`` with ``a[i] > x`` (``hi`` if none), for ``a`` sorted.

    As ``numpy.searchsorted(a[lo:hi], x, side="right") + lo``; so ``search_right(a, 0, n, x)
    - 1`` is the last index with ``a[i] <= x`` (-1 if none).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.array([1.0, 2.0, 2.0, 5.0])
    >>> search_right(a, 0, 4, 2.0), search_right(a, 0, 4, 0.5), search_right(a, 0, 4, 9.0)
    (3, 0, 4)
    """
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo
