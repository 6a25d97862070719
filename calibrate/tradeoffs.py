"""What each MQL threshold costs and wins: volume, precision, SLA load, wins and revenue.

For every candidate threshold ``T`` the MQLs are the leads scoring at least ``T``. Their
volume, precision and recall come from the fitted chance of winning ``p`` of every lead;
their load on the team (utilisation, SLA compliance, response times, reps needed) from the
analytic queue model of ``calibrate.sla`` (checked by simulation when asked, and the
simulation wins where they disagree); and the wins and revenue they bring from ``p``
corrected for how fast the team can answer:

    expected wins(T)   = sum over MQLs of p_i * kept(T) / kept(history)
    expected revenue(T) = sum over MQLs of p_i * amount_i * kept(T) / kept(history)
    revenue lost to slow response(T) = sum of p_i * amount_i * (1 - kept(T)) / kept(history)

where ``kept`` is the mean share of a lead's interest left after its wait for the first touch
(``Funnel.connect_decay * Funnel.qualify_decay``): the scorecard learned ``p`` from leads that
waited as long as the history's leads did, so only the change in waiting changes the wins.

Intervals: a Poisson bootstrap over leads, with each distinct score's totals drawn with the
mean and variance the Poisson weights give them (``bootstrap`` replicates), so it costs the
same for a thousand leads or a million.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from calibrate.capacity import SalesCapacity, Window
from calibrate.sla import analytic_load, overrides, simulated_load
from simulate.funnel import Funnel
from simulate.team import SLA, Team

LOAD_FIGURES = (
    "utilisation",
    "sla_compliance",
    "median_response_hours",
    "p90_response_hours",
    "value_kept",
    "reps_needed",
)
"""The columns that come from the SLA model (``calibrate.sla.analytic_load``)."""

FIGURES_WITH_INTERVALS = (
    "mqls_per_month",
    "precision",
    "recall",
    "wins_per_month",
    "revenue_per_month",
)


@dataclass(frozen=True, slots=True, eq=False)
class Tradeoffs:
    """The trade-off table and what made it.

    ``table`` has one row per threshold: ``threshold, mqls, mqls_per_month, precision,
    recall, wins_per_month, revenue_per_month, revenue_lost_per_month, utilisation,
    sla_compliance, median_response_hours, p90_response_hours, value_kept, reps_needed``,
    ``*_low`` / ``*_high`` bootstrap bounds for the volume and value figures, and, where a
    simulated check ran, the simulated figures ``sim_*`` (mean over seeds, with ``_low`` /
    ``_high`` for SLA compliance) and ``sla_source``: ``"simulation"`` where the simulation
    overrides the analytic model (``calibrate.sla.overrides``), else ``"analytic"``.
    """

    table: pd.DataFrame
    capacity: SalesCapacity
    window: Window
    confidence: float

    @property
    def team(self) -> Team:
        """The team the table was computed for."""
        return self.capacity.team

    @property
    def sla(self) -> SLA:
        """The SLA the table was computed for."""
        return self.capacity.sla

    @property
    def months(self) -> float:
        """Length of the history in months (``Window.months``)."""
        return self.window.months

    def row(self, threshold: float) -> pd.Series:
        """The row of the highest threshold not above ``threshold``."""
        t = self.table
        below = t[t["threshold"] <= threshold]
        return (below.iloc[-1] if len(below) else t.iloc[0]).copy()

    @property
    def sla_compliance(self) -> pd.Series:
        """SLA compliance to trust: the simulation's where it overrides the analytic model."""
        t = self.table
        if "sim_sla_compliance" in t:
            return t["sim_sla_compliance"].where(t["sla_source"] == "simulation", t["sla_compliance"])
        return t["sla_compliance"]

    def with_simulation(self, simulated: pd.DataFrame) -> Tradeoffs:
        """The table with a simulated check merged in (``calibrate.sla.simulated_load`` of
        some or all of its thresholds), and where the simulation overrides marked."""
        table = self.table.drop(columns=[c for c in self.table if c.startswith("sim_") or c == "sla_source"])
        verdict = overrides(table, simulated, level=self.confidence)
        parts = pd.DataFrame(
            {
                "sim_sla_compliance": verdict["sla_compliance_simulated"],
                "sim_sla_compliance_low": verdict["sla_compliance_low"],
                "sim_sla_compliance_high": verdict["sla_compliance_high"],
                "sim_utilisation": verdict["utilisation_simulated"],
                "sim_value_kept": verdict["value_kept_simulated"],
                "sim_median_response_hours": verdict["median_response_hours_simulated"],
                "sim_p90_response_hours": verdict["p90_response_hours_simulated"],
                "sla_source": verdict["trust"],
            }
        )
        parts.index = verdict["threshold"].to_numpy()
        out = table.merge(parts, left_on="threshold", right_index=True, how="left")
        out["sla_source"] = out["sla_source"].fillna("analytic")
        return dataclasses.replace(self, table=out)


def _cumulative_by_score(score: np.ndarray, values: dict[str, np.ndarray], thresholds: np.ndarray):
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


def candidate_thresholds(score: ArrayLike, *, max_count: int | None = None) -> np.ndarray:
    """Every distinct score (ascending), or ``max_count`` evenly spread quantiles of them."""
    distinct = np.unique(np.asarray(score, dtype=float))
    distinct = distinct[np.isfinite(distinct)]
    if max_count is not None and distinct.size > max_count:
        idx = np.unique(np.round(np.linspace(0, distinct.size - 1, max_count)).astype(int))
        distinct = distinct[idx]
    return distinct


def evaluate_tradeoffs(
    score: ArrayLike,
    p_win: ArrayLike,
    handoff_min: ArrayLike,
    *,
    capacity: SalesCapacity,
    window: Window,
    amount: ArrayLike | float = 1.0,
    historical_wait_min: ArrayLike | None = None,
    thresholds: ArrayLike | None = None,
    bootstrap: int = 200,
    confidence: float = 0.9,
    simulate_seeds: int | Sequence[int] = 0,
    returns_score: ArrayLike | None = None,
    returns_handoff_min: ArrayLike | None = None,
    seed: int = 0,
) -> Tradeoffs:
    """The trade-off table of every candidate threshold (see the module docstring).

    Parameters
    ----------
    score : (n,) every lead's score under the candidate points.
    p_win : (n,) fitted chance that the lead wins once worked (as the history worked leads).
    handoff_min : (n,) when each lead would be handed to sales, minutes since ``window.start``.
    capacity : the sales side: team, SLA, response decay, contact rate, bad data.
    window : the history's first day and length.
    amount : (n,) expected deal amount per lead, or one number.
    historical_wait_min : waits (minutes) to the first touch the history's worked leads had;
        ``kept(history)`` is their mean decay (default: 1, as if answered at once).
    thresholds : candidates (default: every distinct score).
    bootstrap : Poisson-bootstrap replicates for the intervals (0 for none).
    confidence : interval level.
    simulate_seeds : a count or a list of seeds: check the SLA of every threshold with the
        queue engine on those seeds (0: analytic only).
    returns_score, returns_handoff_min : leads that come back from nurture and are handed to
        sales a second time (their score and the moment): they add load, not MQLs.
    seed : the root of the randomness: the bootstrap draws from ``default_rng(seed)``, a
        count of ``simulate_seeds`` expands into the children of ``seed``.
    """
    rng = np.random.default_rng(seed)
    score = np.asarray(score, dtype=float)
    n = score.size
    p = _vector(p_win, n, "p_win")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p_win must be probabilities in [0, 1]")
    handoff = _vector(handoff_min, n, "handoff_min")
    value = _vector(amount, n, "amount") if np.ndim(amount) else np.full(n, float(amount))
    thresholds = candidate_thresholds(score) if thresholds is None else np.sort(np.asarray(thresholds, dtype=float))
    if thresholds.size == 0:
        raise ValueError("no candidate thresholds: every score is missing")
    months = window.months

    load_score, load_handoff = score, handoff
    if returns_score is not None:
        load_score = np.concatenate([score, np.asarray(returns_score, dtype=float)])
        load_handoff = np.concatenate([handoff, np.asarray(returns_handoff_min, dtype=float)])
    load = analytic_load(load_score, load_handoff, thresholds, capacity=capacity, window=window)
    kept_history = _kept(capacity.funnel, historical_wait_min)
    kept = load["value_kept"].to_numpy() / kept_history

    count, sums = _cumulative_by_score(score, {"p": p, "pv": p * value}, thresholds)
    total_p = p.sum()
    table = pd.DataFrame({"threshold": thresholds, "mqls": count})
    table["mqls_per_month"] = count / months
    table["precision"] = np.divide(sums["p"], count, out=np.full(count.size, np.nan), where=count > 0)
    table["recall"] = sums["p"] / total_p if total_p > 0 else np.nan
    table["wins_per_month"] = sums["p"] * kept / months
    table["revenue_per_month"] = sums["pv"] * kept / months
    table["revenue_lost_per_month"] = sums["pv"] * np.clip(1.0 / kept_history - kept, 0, None) / months
    for column in LOAD_FIGURES:
        table[column] = load[column].to_numpy()

    if bootstrap:
        low, high = _poisson_bootstrap(score, p, value, thresholds, kept, months, bootstrap, confidence, rng)
        for name in FIGURES_WITH_INTERVALS:
            table[f"{name}_low"] = low[name]
            table[f"{name}_high"] = high[name]

    trade = Tradeoffs(table=table, capacity=capacity, window=window, confidence=confidence)
    if isinstance(simulate_seeds, int | np.integer) and simulate_seeds == 0:
        return trade
    sim = simulated_load(
        load_score, load_handoff, thresholds, capacity=capacity, window=window, seeds=simulate_seeds, seed=seed
    )
    return trade.with_simulation(sim)


def _kept(funnel: Funnel, historical_wait_min: ArrayLike | None) -> float:
    """Mean share of value the history's worked leads kept after their waits (1 without)."""
    if historical_wait_min is None:
        return 1.0
    waits = np.asarray(historical_wait_min, dtype=float)
    waits = waits[np.isfinite(waits)]
    return float(np.mean(funnel.connect_decay(waits) * funnel.qualify_decay(waits))) if waits.size else 1.0


def _vector(values: ArrayLike, n: int, name: str) -> np.ndarray:
    out = np.asarray(values, dtype=float)
    if out.shape != (n,):
        raise ValueError(f"{name} must have one value per lead ({n}), got shape {out.shape}")
    if np.isnan(out).any():
        raise ValueError(f"{name} is missing for lead {int(np.flatnonzero(np.isnan(out))[0])}")
    return out


def _poisson_bootstrap(score, p, value, thresholds, kept, months, replicates, confidence, rng):
    """Bounds of the volume and value figures over Poisson-bootstrap replicates.

    Leads between two neighbouring thresholds form a group; with Poisson(1) weights per lead a
    group's totals have mean (sum x) and covariance (sum x x'), and each replicate draws every
    group's count, chance total and value total from a normal with those moments: exact in
    the limit of large groups, and as cheap for a million leads as for a thousand.
    """
    k = thresholds.size
    group = np.searchsorted(thresholds, score, side="right")  # 0: below every threshold
    stats = (np.ones_like(p), p, p * value)  # per-lead count, wins, revenue
    mean = np.stack([np.bincount(group, s, k + 1) for s in stats], axis=1)  # (k + 1, 3)
    cov = np.empty((k + 1, 3, 3))
    for i in range(3):
        for j in range(i, 3):
            cov[:, i, j] = cov[:, j, i] = np.bincount(group, stats[i] * stats[j], k + 1)
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
        "wins_per_month": tot[..., 1] * kept[None] / months,
        "revenue_per_month": tot[..., 2] * kept[None] / months,
    }
    alpha = (1 - confidence) / 2
    low = {name: np.nanquantile(v, alpha, axis=0) for name, v in figures.items()}
    high = {name: np.nanquantile(v, 1 - alpha, axis=0) for name, v in figures.items()}
    return low, high
