"""Next month's MQLs: the training year's seasonality, the level the new months show, and
the campaigns the user plans, with a predictive interval.

Model, for the MQLs that no campaign brought (``calibrate.monitor_reference``):

* seasonality ``s_m``: the training year's MQLs of calendar month ``m`` (campaign MQLs
  apart), scaled to the days of the month;
* level ``L``: the ratio ``observed_k / s_k`` of the last ``LEVEL_MONTHS`` new months,
  their mean, or, with three or more and a slope beyond ``TREND_Z`` standard errors, the
  least-squares line through them one month on (the trend); 1 without any;
* next month: ``L s_next`` plus each planned campaign's ``extra_leads * mql_share``, times
  the share of a campaign's MQLs that fall in the month it begins.

Its interval is normal on the count: the Poisson spread of a month, inflated by the
over-dispersion the new months show around the line (at least 1), plus the uncertainty of
``L`` (the Poisson spread of the months it is made of and of the training months it
divides by).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

__all__ = ["LEVEL_MONTHS", "PlannedCampaign", "VolumeForecast", "forecast_mqls"]

LEVEL_MONTHS = 4
"""The level of the forecast comes from the last this many new months."""

TREND_Z = 2.0
"""A trend is carried forward when its slope is beyond this many standard errors."""

TREND_DISPERSION = 0.05
"""A month's level varies by this share beyond the Poisson spread (the weekday mix of the
month, holidays); it widens the slope's standard error and the level's."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedCampaign:
    """A campaign planned for next month: ``extra_leads`` it brings, the share of them that
    become MQLs (default: the share the training campaigns' leads had) and the day it
    starts (``"2027-06-08"``; then the share of its MQLs that fall next month follows from
    how the training campaigns' MQLs spread over the weeks after their start)."""

    name: str
    extra_leads: float
    mql_share: float | None = None
    start: str | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.extra_leads) or self.extra_leads < 0:
            raise ValueError(f"PlannedCampaign {self.name!r}: extra_leads must be >= 0, got {self.extra_leads!r}")
        if self.mql_share is not None and not 0 <= self.mql_share <= 1:
            raise ValueError(f"PlannedCampaign {self.name!r}: mql_share must be in [0, 1], got {self.mql_share!r}")


@dataclass(frozen=True, slots=True)
class VolumeForecast:
    """MQLs next month (``month``): ``mqls`` expected, ``low`` / ``high`` its ``confidence``
    interval, ``sd`` the predictive standard deviation; ``level`` the new months over the
    training year's same months, with its standard error; ``campaign_mqls`` planned."""

    month: str
    mqls: float
    low: float
    high: float
    sd: float
    level: float
    level_se: float
    campaign_mqls: float
    confidence: float = 0.9

    def chance_above(self, mqls: float) -> float:
        """The chance that next month has more than ``mqls`` MQLs."""
        if not np.isfinite(mqls):
            return 0.0
        return float(norm.sf(mqls, loc=self.mqls, scale=max(self.sd, 1e-9)))


def _seasonal(reference_volume: dict) -> pd.Series:
    """Training MQLs (campaigns apart) per day, by calendar month number 1..12."""
    months = pd.PeriodIndex(reference_volume["months"], freq="M")
    base = np.asarray(reference_volume["mqls"], float) - np.asarray(reference_volume["campaign_mqls"], float)
    per_day = pd.Series(base / months.days_in_month.to_numpy(), index=months.month)
    per_day = per_day.groupby(level=0).mean()
    overall = float(per_day.mean()) if len(per_day) else 0.0
    return per_day.reindex(range(1, 13), fill_value=overall)


def _weights(k: int) -> np.ndarray:
    """Weights of ``k`` monthly ratios that give the level one month after the last: their
    mean for fewer than three, else the least-squares line through them, carried one step."""
    if k < 3:
        return np.full(k, 1.0 / k)
    t = np.arange(k, dtype=float)
    centred = t - t.mean()
    return 1.0 / k + centred * (k - t.mean()) / np.sum(centred**2)


def _level(seen: np.ndarray, train: np.ndarray) -> tuple[float, float]:
    """Next month's level (new over last year's same month) and its standard error from the
    Poisson spread of each month and of the training month it divides by. The trend is
    carried only where its slope is beyond ``TREND_Z`` standard errors (else the mean: a
    line through noise would swing the forecast)."""
    if not seen.size:
        return 1.0, 0.0
    ratio = seen / train
    var = seen / train**2 + seen**2 / train**3 + (TREND_DISPERSION * ratio) ** 2
    w = _weights(seen.size)
    if seen.size >= 3:
        t = np.arange(seen.size, dtype=float) - (seen.size - 1) / 2
        c = t / np.sum(t**2)
        if abs(c @ ratio) <= TREND_Z * np.sqrt(np.sum(c**2 * var)):
            w = np.full(seen.size, 1.0 / seen.size)
    return max(float(w @ ratio), 0.0), float(np.sqrt(np.sum(w**2 * var)))


def _fitted(seen: np.ndarray, train: np.ndarray) -> np.ndarray:
    """The least-squares line through the ratios, at each month (for the dispersion)."""
    t = np.arange(seen.size, dtype=float)
    slope, intercept = np.polyfit(t, seen / train, 1)
    return intercept + slope * t


def forecast_mqls(
    reference_volume: dict,
    observed: pd.DataFrame,
    *,
    campaigns: Sequence[PlannedCampaign] = (),
    campaign_mql_share: float = 0.0,
    in_month_share: float = 1.0,
    mql_days: Sequence[float] = (),
    confidence: float = 0.9,
) -> VolumeForecast:
    """Forecast next month's MQLs (see the module docstring).

    Parameters
    ----------
    reference_volume : the config's ``monitor_reference["volume"]``.
    observed : the new months, ``month`` (``pandas.Period``), ``mqls``, ``campaign_mqls``
        (``calibrate.monitor_reference.monthly_mqls`` of the new history); next month is
        the one after the last.
    campaigns : campaigns planned for next month.
    campaign_mql_share : the MQL share of a campaign's leads where a campaign gives none.
    in_month_share : the share of a campaign's MQLs that fall in the month it begins (the
        training campaigns'; the rest spill into the month after), for a campaign without
        a start day.
    mql_days : quantiles of the days from a training campaign's start to its MQLs.
    """
    seasonal = _seasonal(reference_volume)
    if not len(observed):
        raise ValueError("forecast_mqls needs at least one whole new month of MQLs")
    last = observed.tail(LEVEL_MONTHS)
    days = last["month"].map(lambda p: p.days_in_month).to_numpy(float)
    train = seasonal.loc[[p.month for p in last["month"]]].to_numpy() * days
    seen = (last["mqls"] - last["campaign_mqls"]).to_numpy(float)
    ok = train > 0
    level, level_se = _level(seen[ok], train[ok])
    nxt = last["month"].iloc[-1] + 1
    base = level * float(seasonal.loc[nxt.month]) * nxt.days_in_month
    extra = 0.0
    for c in campaigns:
        share = in_month_share
        if c.start is not None and len(mql_days):
            left = (nxt.end_time - pd.Timestamp(c.start)).total_seconds() / 86400.0
            share = float(np.mean(np.asarray(mql_days, float) <= left))
        extra += share * c.extra_leads * (campaign_mql_share if c.mql_share is None else c.mql_share)
    mqls = base + extra
    dispersion = 1.0
    if ok.sum() >= 3:
        fitted = _fitted(seen[ok], train[ok]) * train[ok]
        dispersion = max(1.0, float(np.mean((seen[ok] - fitted) ** 2 / np.maximum(fitted, 1.0))))
    sd = float(np.sqrt(dispersion * max(mqls, 1.0) + (base / max(level, 1e-9) * level_se) ** 2))
    z = float(norm.ppf(0.5 + confidence / 2))
    return VolumeForecast(
        month=str(nxt),
        mqls=float(mqls),
        low=max(0.0, mqls - z * sd),
        high=mqls + z * sd,
        sd=sd,
        level=level,
        level_se=level_se,
        campaign_mqls=float(extra),
        confidence=confidence,
    )
