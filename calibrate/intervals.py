"""The intervals of the trade-off table (``calibrate.tradeoffs``): the expected value's
(a Poisson bootstrap over leads), a new year's range, and their widening over the envelope of
plausible chances where the history never worked a region of the score.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["cumulative_by_score", "poisson_bootstrap", "widen_for_extrapolation", "year_range"]


def cumulative_by_score(score: np.ndarray, values: dict[str, np.ndarray], thresholds: np.ndarray):
    """Sums of each value over leads with score >= threshold, for every threshold."""
    order = np.argsort(-score, kind="stable")
    s = score[order]
    # number of leads with score >= t: position of t in the descending scores
    count = np.searchsorted(-s, -thresholds, side="right")
    out = {}
    for name, v in values.items():
        c = np.concatenate([[0.0], np.cumsum(v[order])])
        out[name] = c[count]
    return count, out


def widen_for_extrapolation(table, score, thresholds, p, high, value, unworked, per_month) -> None:
    """The extrapolated columns, and the wins and revenue intervals over the envelope of
    plausible chances of the unworked MQLs (module docstring)."""
    _, sums = cumulative_by_score(
        score,
        {
            "credited": p * unworked,
            "credited_value": p * value * unworked,
            "high": high * unworked,
            "high_value": high * value * unworked,
        },
        thresholds,
    )
    mqls = table["mqls_per_month"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        table["extrapolated_share"] = np.where(mqls > 0, table["unworked_mqls_per_month"] / mqls, 0.0)
    for name, key, scale in (("wins_per_month", "", per_month[0]), ("revenue_per_month", "_value", per_month[1])):
        credited = sums[f"credited{key}"] * scale
        top = sums[f"high{key}"] * scale
        table[f"extrapolated_{name}"] = top
        for end in ("_low", "_year_low"):
            if f"{name}{end}" in table:
                table[f"{name}{end}"] = np.maximum(table[f"{name}{end}"] - credited, 0.0)
        for end in ("_high", "_year_high"):
            if f"{name}{end}" in table:
                table[f"{name}{end}"] = table[f"{name}{end}"] + np.maximum(top - credited, 0.0)


def year_range(table: pd.DataFrame, per_month_variance: dict, confidence: float) -> None:
    """``*_year_low`` / ``*_year_high``: where a new year's monthly average may fall.

    A new year of the same arrival rate: its MQLs and wins are Poisson sums, so the variance
    of their monthly average over 12 months is (monthly mean) / 12 (revenue: the monthly sum
    of ``p * amount^2`` times the deal-size dispersion, over 12), added to the expectation's
    own uncertainty (its interval's half width over z).
    """
    z = float(norm.ppf(0.5 + confidence / 2))
    for name, variance in per_month_variance.items():
        value = table[name].to_numpy(float)
        se = 0.0
        if f"{name}_low" in table:
            se = (table[f"{name}_high"].to_numpy(float) - table[f"{name}_low"].to_numpy(float)) / (2 * z)
        half = z * np.sqrt(np.asarray(variance, dtype=float) + np.nan_to_num(se) ** 2)
        table[f"{name}_year_low"] = np.maximum(value - half, 0.0)
        table[f"{name}_year_high"] = value + half


def poisson_bootstrap(
    score, p, value, thresholds, kept, months, replicates, confidence, rng, dispersion=1.0, counted=None
):
    """Bounds of the expected volume and value figures over Poisson-bootstrap replicates
    (``kept``: the wins' and the revenue's value kept per threshold, over the history's).

    Leads between two neighbouring thresholds form a group; with Poisson(1) weights per lead a
    group's totals have mean (sum x) and covariance (sum E[x x']), and each replicate draws
    every group's count, win total and value total from a normal with those moments: exact
    in the limit of large groups, and as cheap for a million leads as for a thousand. The
    chances were learned from one history's outcomes, so each lead's win counts as a draw
    ``y ~ Bernoulli(p)`` (``E[y^2] = p``) and its amount as a draw of the deal sizes
    (``E[(y v)^2] = p v^2 dispersion``): the interval covers the noise of the outcomes the
    estimate rests on, not only which leads arrived. ``counted`` (default: all) marks the
    entries that are MQLs (the trips back from nurture carry value, not a count).
    """
    k = thresholds.size
    counted = np.ones_like(p) if counted is None else np.asarray(counted, dtype=float)
    group = np.searchsorted(thresholds, score, side="right")  # 0: below every threshold
    stats = (counted, p, p * value)  # per-lead count, wins, revenue
    mean = np.stack([np.bincount(group, s, k + 1) for s in stats], axis=1)  # (k + 1, 3)
    second = {
        (0, 0): counted,
        (0, 1): p * counted,
        (0, 2): p * value * counted,
        (1, 1): p,
        (1, 2): p * value,
        (2, 2): p * value**2 * float(dispersion),
    }
    cov = np.empty((k + 1, 3, 3))
    for (i, j), moment in second.items():
        cov[:, i, j] = cov[:, j, i] = np.bincount(group, moment, k + 1)
    chol = np.linalg.cholesky(cov + 1e-9 * np.eye(3))
    z = rng.standard_normal((replicates, k + 1, 3))
    draws = mean[None] + np.einsum("gij,rgj->rgi", chol, z)  # (r, k + 1, 3)
    draws[..., 0] = np.maximum(draws[..., 0], 0)
    # totals over the leads at or above threshold t_j: groups j + 1 .. k
    tot = draws[:, :0:-1].cumsum(axis=1)[:, ::-1]  # (r, k, 3)
    all_p = draws[..., 1].sum(axis=1)[:, None]
    count = tot[..., 0]
    figures = {
        "mqls_per_month": count / months,
        "precision": np.divide(tot[..., 1], count, out=np.full(count.shape, np.nan), where=count > 0),
        "recall": tot[..., 1] / np.where(all_p > 0, all_p, np.nan),
        "wins_per_month": tot[..., 1] * kept[0][None] / months,
        "revenue_per_month": tot[..., 2] * kept[1][None] / months,
    }
    alpha = (1 - confidence) / 2
    low = {name: np.nanquantile(v, alpha, axis=0) for name, v in figures.items()}
    high = {name: np.nanquantile(v, 1 - alpha, axis=0) for name, v in figures.items()}
    return low, high
