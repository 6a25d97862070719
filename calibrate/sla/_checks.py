"""Input checks shared by :func:`~calibrate.sla.analytic_load` and :func:`~calibrate.sla.simulated_load`."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from calibrate.capacity import SalesCapacity, Window
from simulate.calendar import MINUTES_PER_DAY


def probability(x: ArrayLike, name: str) -> np.ndarray:
    """``x`` as a float array, checked to be probabilities."""
    a = np.asarray(x, dtype=float)
    if np.any(~np.isfinite(a)) or np.any((a < 0) | (a > 1)):
        raise ValueError(f"{name} must be in [0, 1], got {x!r}" if a.ndim == 0 else f"{name} must be in [0, 1]")
    return a


def check_leads(score, handoff_min, thresholds, *, capacity, window):
    """``score``, ``handoff_min`` and ``thresholds`` as float arrays, and the two specs checked."""
    if not isinstance(capacity, SalesCapacity):
        raise TypeError(f"capacity must be a calibrate.capacity.SalesCapacity, got {capacity!r}")
    if not isinstance(window, Window):
        raise TypeError(f"window must be a calibrate.capacity.Window, got {window!r}")
    try:
        s = np.asarray(score, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("score must be numeric") from None
    try:
        h = np.asarray(handoff_min, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("handoff_min must be numeric") from None
    if s.ndim != 1:
        raise ValueError(f"score must be one-dimensional, got shape {s.shape}")
    if h.shape != s.shape:
        raise ValueError(f"handoff_min must have the length of score ({s.size}), got shape {h.shape}")
    if np.isinf(s).any():
        raise ValueError("score must be finite (nan marks a lead without a score: never an MQL)")
    if not np.isfinite(h).all():
        raise ValueError("handoff_min must be finite")
    end = window.end_minutes
    if h.size and (h.min() < 0 or h.max() >= end):
        raise ValueError(
            f"handoff_min must lie in [0, days * {MINUTES_PER_DAY:g}) = [0, {end:g}) minutes, "
            f"got [{h.min():g}, {h.max():g}]"
        )
    try:
        t = np.asarray(thresholds, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("thresholds must be numeric") from None
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"thresholds must be a non-empty one-dimensional sequence, got shape {t.shape}")
    if not np.isfinite(t).all():
        raise ValueError("thresholds must be finite")
    return s, h, t


def check_sizes(reps) -> np.ndarray | None:
    """Distinct team sizes, sorted (None stays None)."""
    if reps is None:
        return None
    r = np.atleast_1d(np.asarray(reps))
    if r.ndim != 1 or r.size == 0 or not np.issubdtype(r.dtype, np.integer) or (r < 1).any():
        raise ValueError(f"reps must be a sequence of team sizes >= 1, got {reps!r}")
    return np.unique(r.astype(np.int64))


def lead_shares(capacity: SalesCapacity, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``capacity.contact_rate`` and ``capacity.bad_data_share`` as arrays (0-d, or one per lead)."""
    contact = probability(capacity.contact_rate, "contact_rate")
    bad = probability(capacity.bad_data_share, "bad_data_share")
    for name, a in (("contact_rate", contact), ("bad_data_share", bad)):
        if a.ndim and a.shape != (n,):
            raise ValueError(f"capacity.{name} must be a scalar or have the length of score ({n})")
    return contact, bad


def check_weights(weights, n: int) -> dict[str, np.ndarray] | None:
    """Per-lead weights by name (see ``analytic_load``), each a finite ``(n,)`` array >= 0."""
    if weights is None:
        return None
    if not hasattr(weights, "items"):
        raise TypeError(f"weights must map names to arrays, got {type(weights).__name__}")
    out = {}
    for name, w in weights.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"weights: names must be identifiers, got {name!r}")
        try:
            a = np.asarray(w, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"weights[{name!r}] must be numeric") from None
        if a.shape != (n,):
            raise ValueError(f"weights[{name!r}] must have the length of score ({n}), got shape {a.shape}")
        if not np.isfinite(a).all() or (a < 0).any():
            bad = int(np.flatnonzero(~np.isfinite(a) | (a < 0))[0])
            raise ValueError(f"weights[{name!r}] must be finite and >= 0 (row {bad}: {a[bad]:g})")
        out[name] = a
    return out
