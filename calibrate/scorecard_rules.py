"""A fitted ``Scorecard``'s points as ``simulate.ScoringRules`` (``Scorecard.to_rules``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from calibrate._binning import MISSING, compact_bins
from simulate.rules import Bins, Grades, ScoringRules


def rules_from_criteria(criteria: Sequence, threshold: float, grades: Grades | None) -> ScoringRules:
    """The rules of the fitted criteria (``Scorecard.criteria_``): numeric bins compacted,
    categorical values with their non-zero points (a blank said explicitly where it has its
    own group), score limits from the lowest and highest points each criterion can give."""
    fit: dict[str, dict[str, int]] = {}
    fit_numeric: dict[str, Bins] = {}
    engagement: dict[str, Bins] = {}
    lo_total = hi_total = 0
    for c in criteria:
        pts = c.points
        b = c.binning
        if c.kind == "numeric":
            bins = compact_bins(b.edges, pts[: b.n_bins], int(pts[b.n_bins]) if b.has_missing else 0)
            (engagement if c.axis == "engagement" else fit_numeric)[c.name] = bins
            used = [*bins.points, bins.missing]
        else:
            fit[c.name] = {
                v: int(pts[g]) for v, g in zip(b.values, b.group_of_value, strict=False) if g >= 0 and pts[g] != 0
            }
            if b.has_missing:  # a blank is the reference, said explicitly in the config
                fit[c.name][MISSING] = int(pts[b.missing_group])
            used = [*pts.tolist(), 0]
        lo_total += min(used)
        hi_total += max(used)
    return ScoringRules(
        fit=fit,
        fit_numeric=fit_numeric,
        engagement=engagement,
        decay_half_life_days=None,
        score_min=float(lo_total),
        score_max=float(max(hi_total, lo_total + 1)),
        mql_threshold=float(threshold),
        grades=grades,
    )


def fit_grades(values: np.ndarray, weights: np.ndarray, n: int, threshold: float) -> Grades:
    """``n`` fit grades cut at the weighted quantiles of the training fit scores (``values``
    sorted, with their ``weights``); each grade needs ``threshold`` minus its lowest fit score
    of engagement."""
    if n < 2:
        raise ValueError(f"grades must be >= 2, got {n}")
    cum = np.cumsum(weights) / weights.sum()
    edges = []
    for q in np.arange(1, n) / n:
        e = float(values[min(np.searchsorted(cum, q, side="left") + 1, values.size - 1)])
        if not edges or e > edges[-1]:
            edges.append(e)
    lows = [float(values[0]), *edges]
    return Grades(fit_edges=tuple(edges), engagement_thresholds=tuple(threshold - lo for lo in lows))
