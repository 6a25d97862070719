"""A bound on the Scorecard's design: its dense Hessians must fit in memory (issue 15).

The solver (``calibrate._logistic``) keeps one dense ``(t, t)`` Hessian per chunk of
``CHUNK_ROWS`` rows, plus a few for the covariance, where ``t`` is the number of bins and
categories of all features plus one: ``8 * t**2 * (chunks + 4)`` bytes. A wide fit (a
thousand columns) or a high-cardinality one would ask for tens of GiB and fail with a
``MemoryError`` deep inside; :func:`check_design_size` says so first, naming the widest
features.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from calibrate._logistic import CHUNK_ROWS

MAX_DESIGN_BYTES = 2 * 2**30
"""The solver's dense Hessians (one per chunk of rows, plus the covariance) may take 2 GiB."""


def check_design_size(offsets: np.ndarray, names: Sequence[str], hessian_rows: int) -> None:
    """Refuse a design whose Hessian would not fit in memory, naming the widest features."""
    entries = int(offsets[-1]) + 1
    chunks = -(-hessian_rows // CHUNK_ROWS) + 4
    need = chunks * entries**2 * 8.0
    if need <= MAX_DESIGN_BYTES:
        return
    widths = np.diff(offsets)
    widest = ", ".join(f"{names[j]!r} ({widths[j]:,})" for j in np.argsort(-widths, kind="stable")[:3])
    most = int(math.sqrt(MAX_DESIGN_BYTES / (chunks * 8.0)))
    raise ValueError(
        f"Scorecard: the features make {entries:,} bins and categories (widest: {widest}), whose Hessian needs "
        f"about {need / 2**30:,.1f} GiB of memory; at most about {most:,} fit in 2 GiB: drop id-like or "
        "free-text columns, group rare categories, or lower max_bins"
    )
