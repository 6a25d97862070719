"""The chance that the threshold in force breaks the SLA next month, from the SLA model.

The team, SLA and funnel are the config's (``monitor_reference["capacity"]``, the fitted
world's when the recommendation was made), with the reps the new month shows at work (the
team as it is) or a planned change (reps leaving, hires). The load is the latest month's
MQLs at their own handoff moments (the week's and the day's rhythm as it is), thinned or
copied to any volume ``V``; the analytic queue model (``calibrate.sla.analytic_load``) gives
the month's SLA compliance ``c(V)``. A month's compliance varies around it with the
spread of a month (``sla_compliance_sd_month``, at least ``SLA_SD_MONTH``), and ``V`` is
next month's MQL forecast (``calibrate.monitor_forecast``), so::

    P(break) = E_V [ Phi((target - c(V)) / sd_month) ]

``breaking_mqls`` is the volume at which ``c(V)`` falls below the target.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from calibrate.capacity import SalesCapacity, Window
from calibrate.monitor_forecast import VolumeForecast
from calibrate.sla import analytic_load

__all__ = ["ACTIVE_DAYS", "SLA_SD_MONTH", "SlaRisk", "active_reps", "capacity_of", "sla_risk"]

ACTIVE_DAYS = 14
"""A rep is on the team as it is if he touched a lead in the last this many days."""

SLA_SD_MONTH = 0.03
"""The least spread of a month's SLA compliance around the model's. The config's own (a new
year's spread times ``sqrt(12)``) is about half of it: on the backtest's stationary years
(``python -m bench monitor``) a month's compliance spread by 0.027 to 0.037 around its
mean, and with the config's figure months given a chance of breach under 10% broke in a
third of the cases."""

COPIES = 4


@dataclass(frozen=True, slots=True)
class SlaRisk:
    """The SLA next month with ``reps`` reps: ``chance_of_breach`` (of the compliance falling
    below ``target``), ``compliance`` expected at the forecast volume, ``breaking_mqls``
    the MQLs a month at which the expected compliance falls below the target (inf if none
    of the volumes looked at), and the curve ``mqls, sla_compliance``."""

    reps: int
    chance_of_breach: float
    compliance: float
    breaking_mqls: float
    target: float
    curve: pd.DataFrame


def capacity_of(reference: dict) -> SalesCapacity:
    """The config's ``SalesCapacity`` (team, SLA, funnel, contact shares) from its reference."""
    from simulate.funnel import Funnel
    from simulate.spec import from_dict
    from simulate.team import SLA, Team

    cap = reference["capacity"]
    return SalesCapacity(
        team=from_dict(Team, cap["team"], "monitor_reference.capacity.team"),
        sla=from_dict(SLA, cap["sla"], "monitor_reference.capacity.sla"),
        funnel=from_dict(Funnel, cap["funnel"], "monitor_reference.capacity.funnel"),
        contact_rate=cap["contact_rate"],
        bad_data_share=cap["bad_data_share"],
    )


def active_reps(leads: pd.DataFrame, as_of: pd.Timestamp) -> int | None:
    """Reps who made a first touch in the ``ACTIVE_DAYS`` before ``as_of`` (``None`` if
    the export has no ``rep_id`` / ``first_touch_at``)."""
    if not {"rep_id", "first_touch_at"} <= set(leads.columns) or leads["rep_id"].isna().all():
        return None
    recent = leads["first_touch_at"] > pd.Timestamp(as_of) - pd.Timedelta(days=ACTIVE_DAYS)
    return int(leads.loc[recent.fillna(False).to_numpy(bool), "rep_id"].dropna().nunique())


def _month_window(month: pd.Period) -> Window:
    return Window(start=dt.date(month.year, month.month, 1), days=int(month.days_in_month))


def compliance_curve(
    handoff: pd.Series, month: pd.Period, capacity: SalesCapacity, volumes: np.ndarray, *, seed: int = 0
) -> pd.DataFrame:
    """Expected SLA compliance of a month like ``month`` at each MQL volume of ``volumes``.

    ``handoff`` are the month's MQL moments; every one is copied ``COPIES`` times (more for
    a volume beyond that), each copy
    with its own uniform score, so that threshold ``t`` keeps ``copies * n * (1 - t)`` of
    them: one queue-model call gives every volume.
    """
    window = _month_window(month)
    minutes = window.minutes(pd.Series(handoff).reset_index(drop=True))
    minutes = np.clip(minutes[np.isfinite(minutes)], 0, window.end_minutes - 1)
    n = minutes.size
    if n == 0:
        raise ValueError(f"no MQLs in {month} to take the month's rhythm from")
    copies = max(COPIES, int(np.ceil(np.max(volumes) / n)))
    rng = np.random.default_rng(seed)
    score = rng.random(copies * n)
    at = np.tile(minutes, copies)
    share = np.clip(np.asarray(volumes, float) / (copies * n), 1e-6, 1.0)
    table = analytic_load(score, at, 1.0 - share, capacity=capacity, window=window)
    curve = pd.DataFrame({"mqls": table["mqls"].to_numpy(float), "sla_compliance": table["sla_compliance"].to_numpy()})
    return curve.sort_values("mqls", ignore_index=True)


def sla_risk(
    handoff: pd.Series,
    month: pd.Period,
    capacity: SalesCapacity,
    forecast: VolumeForecast,
    *,
    reps: int,
    sd_month: float | None = None,
    seed: int = 0,
) -> SlaRisk:
    """The chance that next month breaks the SLA with ``reps`` reps (module docstring)."""
    sd = SLA_SD_MONTH if sd_month is None or not np.isfinite(sd_month) else max(float(sd_month), SLA_SD_MONTH)
    capacity = capacity.with_reps(int(reps))
    top = max(forecast.high, forecast.mqls + 4 * forecast.sd, 1.0) * 1.5
    volumes = np.unique(np.linspace(max(1.0, forecast.mqls - 4 * forecast.sd) * 0.5, top, 25).round())
    curve = compliance_curve(handoff, month, capacity, volumes, seed=seed)
    target = capacity.sla.target
    c = curve["sla_compliance"].to_numpy(float)
    v = curve["mqls"].to_numpy(float)
    grid = np.linspace(max(0.0, forecast.mqls - 4 * forecast.sd), forecast.mqls + 4 * forecast.sd, 81)
    weight = norm.pdf(grid, forecast.mqls, max(forecast.sd, 1e-9))
    weight = weight / weight.sum() if weight.sum() > 0 else np.full(grid.size, 1 / grid.size)
    at_grid = np.interp(grid, v, c)
    chance = float(np.sum(weight * norm.cdf((target - at_grid) / sd)))
    below = np.flatnonzero(c < target)
    breaking = float(v[below[0]]) if below.size else float("inf")
    return SlaRisk(
        reps=int(reps),
        chance_of_breach=chance,
        compliance=float(np.interp(forecast.mqls, v, c)),
        breaking_mqls=breaking,
        target=float(target),
        curve=curve,
    )
