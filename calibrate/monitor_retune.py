"""Keep or re-tune: the threshold of the same points that next month's team can serve.

Every threshold of the config's points is weighed on the latest month's leads, as
``recommend`` weighs them (``calibrate.threshold.choose`` and ``sla_floor``): MQLs a month,
the SLA compliance of the analytic queue model with the team as it is, and the wins a
month the config's score calibration promises (``monitor_reference["model"]``). The
month's leads are scaled to next month's forecast volume: copied and thinned at random
(``rng``) so that the current threshold's MQLs match the forecast. Each lead is handed to
sales at its decision moment (``calibrate.monitor_reference.decision_moments``); a lower
threshold would hand some over earlier, which this leaves out. The points themselves are
kept: re-fitting them needs outcomes, which a month does not have (run ``recommend`` on
the longer history for that). The wins rank the thresholds but are not printed: on the
backtest's stationary years the new leads won about 0.6 of what the training bins promise
(the training's worked leads were chosen by the old rules), so they are no figure to
promise.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate.capacity import SalesCapacity, Window
from calibrate.sla import analytic_load
from calibrate.threshold import choose, sla_floor

__all__ = ["Retune", "retune_threshold", "win_chance"]


@dataclass(frozen=True, slots=True)
class Retune:
    """The re-tuned threshold and what it changes: ``table`` has one row per figure
    (``figure, current, retuned``) for next month; ``feasible`` whether any threshold meets
    the SLA target with the stated confidence."""

    threshold: float
    current_threshold: float
    feasible: bool
    table: pd.DataFrame


def win_chance(score: np.ndarray, calibration: dict) -> np.ndarray:
    """The win rate the config's calibration gives each score (its score bin's)."""
    k = np.searchsorted(np.asarray(calibration["edges"], float), np.asarray(score, float), side="right")
    return np.asarray(calibration["win_rate"], float)[k]


def retune_threshold(
    score: np.ndarray,
    handoff: pd.Series,
    month: pd.Period,
    *,
    current_threshold: float,
    forecast_mqls: float,
    capacity: SalesCapacity,
    calibration: dict,
    sd_month: float,
    confidence: float,
    rng: np.random.Generator,
) -> Retune:
    """The threshold to use next month (see the module docstring)."""
    score = np.asarray(score, float)
    window = Window(start=dt.date(month.year, month.month, 1), days=int(month.days_in_month))
    minutes = np.clip(window.minutes(pd.Series(handoff).reset_index(drop=True)), 0, window.end_minutes - 1)
    now = max(int((score >= current_threshold).sum()), 1)
    factor = max(forecast_mqls, 1.0) / now
    copies = int(np.ceil(factor))
    s, m = np.tile(score, copies), np.tile(minutes, copies)
    keep = rng.random(s.size) < factor / copies
    s, m = s[keep], m[keep]
    thresholds = np.unique(np.r_[np.unique(s), current_threshold])
    table = analytic_load(s, m, thresholds, capacity=capacity, window=window)
    p = win_chance(s, calibration)
    order = np.argsort(-s, kind="stable")
    cum = np.cumsum(p[order])
    count = np.searchsorted(-s[order], -table["threshold"].to_numpy(float), side="right")
    table["wins_per_month"] = np.where(count > 0, cum[np.maximum(count - 1, 0)], 0.0)
    table["sla_compliance_sd"] = sd_month
    floor = sla_floor(table, confidence)
    pos, feasible = choose(table, objective="wins", target=None, sla_target=capacity.sla.target, compliance=floor)
    best = table.iloc[pos]
    now_row = table[table["threshold"] == current_threshold].iloc[0]
    rows = []
    for name, label in (
        ("mqls", "MQLs a month"),
        ("sla_compliance", "SLA met"),
        ("utilisation", "rep utilisation"),
    ):
        rows.append((label, float(now_row[name]), float(best[name])))
    return Retune(
        threshold=float(best["threshold"]),
        current_threshold=float(current_threshold),
        feasible=bool(feasible),
        table=pd.DataFrame(rows, columns=["figure", "current", "retuned"]),
    )
