"""Scoring the behaviour stream as it happens: when each lead first meets the MQL rule.

The score is evaluated at the lead's creation and after each of its events (with decay, the
weights of earlier events shrink between events); the first time it meets the rule is the
lead's MQL moment. This is what a CRM does, and it differs from scoring end totals: a lead
whose activity is spread thin may never be an MQL under decay.
"""

from __future__ import annotations

import numba
import numpy as np

from simulate.rules import ScoringRules
from simulate.table import BEHAVIOUR_COLUMNS

MINUTES_PER_DAY = 1440.0


@numba.njit(cache=True)
def _stream_kernel(
    fit,
    need,
    created,
    offsets,
    t,
    crit,
    edges,
    edge_off,
    points,
    point_off,
    half_life_min,
    two_axis,
    threshold,
    score_min,
    score_max,
    as_of,
    not_before,
):  # pragma: no cover
    n = fit.size
    n_crit = edge_off.size - 1
    mql = np.full(n, np.nan)
    mql_score = np.full(n, np.nan)
    score = np.empty(n)
    counts = np.zeros(n_crit)
    for i in range(n):
        if not_before[i] == np.inf:  # not asked for
            score[i] = np.nan
            continue
        counts[:] = 0.0
        last = created[i]
        for j in range(offsets[i], offsets[i + 1] + 1):
            at_end = j == offsets[i + 1]
            now = as_of if at_end else t[j]
            if not at_end and now > as_of:
                now = as_of
                at_end = True
            if half_life_min > 0.0 and now > last:
                counts *= 0.5 ** ((now - last) / half_life_min)
            last = now
            if not at_end and crit[j] >= 0:
                counts[crit[j]] += 1.0
            eng = 0.0
            for c in range(n_crit):
                lo, hi = edge_off[c], edge_off[c + 1]
                a, b = lo, hi
                while a < b:
                    mid = (a + b) // 2
                    if edges[mid] <= counts[c]:
                        a = mid + 1
                    else:
                        b = mid
                eng += points[point_off[c] + (a - lo)]
            total = min(max(fit[i] + eng, score_min), score_max)
            if at_end:
                score[i] = total
                break
            if np.isnan(mql[i]) and now >= not_before[i]:
                ok = eng >= need[i] if two_axis else total >= threshold
                if ok:
                    mql[i] = now
                    mql_score[i] = total
    return mql, score, mql_score


def _flatten(rules: ScoringRules):
    edges, points, edge_off, point_off = [], [], [0], [0]
    for bins in rules.engagement.values():
        edges.extend(bins.edges)
        points.extend(bins.points)
        edge_off.append(len(edges))
        point_off.append(len(points))
    return (
        np.asarray(edges, dtype=float),
        np.asarray(edge_off, dtype=np.int64),
        np.asarray(points, dtype=float),
        np.asarray(point_off, dtype=np.int64),
    )


def score_stream(
    rules: ScoringRules,
    fit_points: np.ndarray,
    created_min: np.ndarray,
    offsets: np.ndarray,
    event_min: np.ndarray,
    event_kind: np.ndarray,
    as_of_min: float,
    *,
    not_before: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MQL moment, score at ``as_of_min`` and score at the MQL moment of every lead.

    Parameters
    ----------
    rules : the scoring rules.
    fit_points : (n,) fit points per lead (``rules.fit_points(leads)``).
    created_min : (n,) creation times, minutes.
    offsets : (n + 1,) lead ``i``'s events are ``offsets[i]:offsets[i+1]``, in time order.
    event_min, event_kind : event times (minutes) and kind codes (index of ``EVENT_KINDS``).
    as_of_min : events after this moment are not seen.
    not_before : (n,) optional; only moments at or after it count (for leads coming back
        from nurture: the first event after their cooling-off that meets the rule).

    Returns
    -------
    mql_min : (n,) first moment the rule is met (``nan`` if never by ``as_of_min``).
    score : (n,) score at ``as_of_min``.
    mql_score : (n,) score at the MQL moment (``nan`` if never an MQL).
    """
    fit_points = np.asarray(fit_points, dtype=float)
    columns = list(rules.engagement)
    kind_crit = np.asarray([columns.index(c) if c in columns else -1 for c in BEHAVIOUR_COLUMNS])
    crit = kind_crit[np.asarray(event_kind, dtype=np.int64)] if len(event_kind) else np.zeros(0, np.int64)
    edges, edge_off, points, point_off = _flatten(rules)
    two_axis = rules.grades is not None
    if two_axis:
        need = np.asarray(rules.grades.engagement_thresholds, dtype=float)[rules.grades.grade(fit_points)]
    else:
        need = np.zeros(fit_points.size)
    half_life = (rules.decay_half_life_days or 0.0) * MINUTES_PER_DAY
    if not_before is None:
        not_before = np.full(fit_points.size, -np.inf)
    not_before = np.asarray(not_before, dtype=float)
    # the state at creation (fit only, zero counts) is one more moment to check
    zero_eng = sum(float(b(np.zeros(1))[0]) for b in rules.engagement.values())
    if two_axis:
        at_creation = zero_eng >= need
    else:
        total = np.clip(fit_points + zero_eng, rules.score_min, rules.score_max)
        at_creation = total >= rules.mql_threshold
    mql, score, mql_score = _stream_kernel(
        fit_points,
        need,
        np.asarray(created_min, dtype=float),
        np.asarray(offsets, dtype=np.int64),
        np.asarray(event_min, dtype=float),
        crit.astype(np.int64),
        edges,
        edge_off,
        points,
        point_off,
        float(half_life),
        two_axis,
        float(rules.mql_threshold),
        float(rules.score_min),
        float(rules.score_max),
        float(as_of_min),
        not_before,
    )
    created = np.asarray(created_min, dtype=float)
    first = at_creation & (created <= as_of_min) & (created >= not_before)
    mql = np.where(first, created, mql)
    if not two_axis:
        mql_score = np.where(first, total, mql_score)
    else:
        mql_score = np.where(first, np.clip(fit_points + zero_eng, rules.score_min, rules.score_max), mql_score)
    return mql, score, mql_score
