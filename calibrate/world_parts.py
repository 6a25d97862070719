"""The parts of a fitted world, each learned from a history where it has the data.

Every function returns the part and a list of ``Part`` rows saying, for each input, whether
it was fitted (from how many leads) or assumed (and from where); ``calibrate.world`` puts
them together. Times of day and weekdays are read in the history's time zone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from simulate.calendar import DAYS_PER_MONTH, WorkingCalendar
from simulate.funnel import Funnel
from simulate.scenario import Arrivals, Campaign
from simulate.team import Rep, Team

__all__ = ["Part", "fit_after_touch", "fit_arrivals", "fit_team", "stage_exponents"]

BURST_SIGMAS = 5.0
"""A day is part of a burst when its leads exceed the expected by this many Poisson sds..."""

BURST_RATIO = 1.5
"""... and by this factor."""

MIN_REP_TOUCHES = 20
"""A rep seen on fewer first touches than this is left out of the team (a one-off owner)."""


@dataclass(frozen=True, slots=True)
class Part:
    """One input of the world: what it is, its value, and where it comes from."""

    part: str
    value: str
    fitted: bool
    n: int
    source: str

    @property
    def basis(self) -> str:
        """``"fitted from N leads"``, ``"given"`` (by the caller) or ``"assumed (source)"``."""
        if self.fitted:
            return f"fitted from {self.n:,} leads"
        return "given" if self.source == "given" else f"assumed ({self.source})"


def _local(times: pd.Series, timezone: str) -> pd.Series:
    return times.dt.tz_convert(timezone)


def _profile(counts: np.ndarray, exposure: np.ndarray) -> tuple[float, ...]:
    """Rates (counts over exposure) scaled to mean 1 where exposed; 1 where never exposed."""
    rate = np.divide(counts, exposure, out=np.full(counts.size, np.nan), where=exposure > 0)
    mean = np.nanmean(rate) if np.isfinite(rate).any() else 1.0
    rate = np.where(np.isfinite(rate), rate, mean)
    return tuple(float(x) for x in rate / mean) if mean > 0 else (1.0,) * counts.size


def fit_arrivals(leads: pd.DataFrame, timezone: str, first_day: dt.date, days: int) -> tuple[Arrivals, list[Part]]:
    """Monthly volume, month, weekday and hour profiles, and bursts, from creation times.

    ``first_day`` and ``days`` give the MQL window in local days. Bursts are the history's
    named campaigns (``campaign`` column) where it has them, else runs of days whose leads
    exceed the expected by ``BURST_SIGMAS`` Poisson sds and ``BURST_RATIO``; their leads
    come on top of the base flow, from the source that dominates them.
    """
    created = _local(leads["created_at"], timezone)
    day = (created.dt.tz_localize(None).dt.normalize() - pd.Timestamp(first_day)).dt.days.to_numpy()
    inside = (day >= 0) & (day < days)
    dates = pd.date_range(first_day, periods=days, freq="D")
    campaign_of = _campaign_leads(leads, inside)
    base = inside & ~campaign_of.any(axis=1) if campaign_of.size else inside
    per_day = np.bincount(day[base], minlength=days).astype(float)
    # the first and last local days of the window are partly outside it: not in the rates
    whole = np.ones(days, dtype=bool)
    if days > 3:
        whole[[0, -1]] = False
    weekday_counts = np.bincount(dates.day_of_week[whole], weights=per_day[whole], minlength=7)
    weekday = _profile(weekday_counts, np.bincount(dates.day_of_week[whole], minlength=7).astype(float))
    hour = np.bincount(created[base].dt.hour.to_numpy(), minlength=24).astype(float)
    hour_profile = tuple(float(x) for x in (hour + 0.5) / (hour + 0.5).mean())
    # month multipliers: each calendar month's base leads per weekday-weighted day, over the
    # window's rate (1 for months not seen)
    wd = np.asarray(weekday)[dates.day_of_week]
    rate = per_day[whole].sum() / max(wd[whole].sum(), 1e-9)
    month_counts = np.bincount(dates.month[whole] - 1, weights=per_day[whole], minlength=12)
    month_exposure = np.bincount(dates.month[whole] - 1, weights=wd[whole], minlength=12)
    seen = month_exposure > 0
    month_rate = np.divide(month_counts, month_exposure, out=np.full(12, rate), where=seen)
    multipliers = tuple(float(x) for x in (month_rate / rate if rate > 0 else np.ones(12)))
    # a month's expected leads are leads_per_month * multiplier / mean(multipliers)
    leads_per_month = float(rate * np.mean(weekday) * DAYS_PER_MONTH * np.mean(multipliers))
    campaigns = _bursts(leads, campaign_of, dates, per_day, weekday, multipliers, rate, day, inside)
    arrivals = Arrivals(
        leads_per_month=leads_per_month,
        month_multipliers=multipliers,
        weekday_profile=weekday,
        hour_profile=hour_profile,
        campaigns=tuple(campaigns),
    )
    seen_months = int(seen.sum())
    trend, trend_se = _trend(per_day, dates)
    n = int(inside.sum())
    parts = [
        Part("arrivals: leads a month", f"{leads_per_month:,.0f} (base flow)", True, n, ""),
        Part(
            "arrivals: month profile",
            f"{seen_months} of 12 calendar months seen",
            seen_months == 12,
            n,
            "months not in the history at the average rate",
        ),
        Part("arrivals: weekday and hour profiles", f"in {timezone}", True, n, ""),
        Part(
            "arrivals: trend",
            f"{trend:+.1%} a month (+- {1.96 * trend_se:.1%}), not extrapolated",
            True,
            n,
            "",
        ),
        Part(
            "arrivals: bursts",
            f"{len(campaigns)} ({sum(c.extra_leads for c in campaigns):,.0f} extra leads)",
            True,
            int(campaign_of.any(axis=1).sum()) if campaign_of.size else 0,
            "",
        ),
    ]
    return arrivals, parts


def _campaign_leads(leads, inside) -> np.ndarray:
    """(leads x named campaigns) membership, inside the window (no columns without any)."""
    if "campaign" not in leads or leads["campaign"].isna().all():
        return np.zeros((len(leads), 0), dtype=bool)
    names = leads["campaign"].astype("object").where(leads["campaign"].notna())
    named = list(pd.unique(names.dropna()))
    return (
        np.column_stack([(names == n).to_numpy() & inside for n in named]) if named else np.zeros((len(leads), 0), bool)
    )


def _bursts(leads, campaign_of, dates, per_day, weekday, multipliers, rate, day, inside) -> list[Campaign]:
    sources = leads["source"].astype("object").to_numpy()
    out = []
    if campaign_of.size:
        names = pd.unique(leads["campaign"].astype("object").dropna())
        for j, name in enumerate(names):
            member = campaign_of[:, j]
            d = day[member]
            first, last = int(d.min()), int(d.max())
            out.append(_campaign(str(name), dates[first], last - first + 1, member.sum(), sources[member]))
        return out
    expected = rate * np.asarray(weekday)[dates.day_of_week] * np.asarray(multipliers)[dates.month - 1]
    burst = (per_day > expected + BURST_SIGMAS * np.sqrt(expected + 1)) & (per_day > BURST_RATIO * expected)
    run_start = None
    for i in range(len(dates) + 1):
        if i < len(dates) and burst[i]:
            run_start = i if run_start is None else run_start
            continue
        if run_start is not None:
            span = slice(run_start, i)
            extra = float((per_day[span] - expected[span]).sum())
            member = inside & (day >= run_start) & (day < i)
            name = f"burst {dates[run_start].date().isoformat()}"
            out.append(_campaign(name, dates[run_start], i - run_start, extra, sources[member]))
            run_start = None
    return out


def _campaign(name: str, start: pd.Timestamp, days: int, extra: float, sources: np.ndarray) -> Campaign:
    values, counts = np.unique(sources.astype(str), return_counts=True)
    return Campaign(
        name=name,
        start=pd.Timestamp(start).date().isoformat(),
        days=int(days),
        extra_leads=float(extra),
        source=str(values[np.argmax(counts)]) if values.size else "direct",
        intent_shift=0.0,
    )


def _trend(per_day: np.ndarray, dates: pd.DatetimeIndex) -> tuple[float, float]:
    """Growth a month of the base flow (log-linear fit of monthly counts) and its se."""
    month = (dates.year - dates.year[0]) * 12 + dates.month - dates.month[0]
    counts = np.bincount(month, weights=per_day)
    days_in = np.bincount(month)
    keep = days_in >= 20
    if keep.sum() < 3:
        return 0.0, float("nan")
    x = np.flatnonzero(keep).astype(float)
    y = np.log(np.maximum(counts[keep] / days_in[keep], 1e-9))
    X = np.column_stack([np.ones(x.size), x])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    s2 = resid @ resid / max(x.size - 2, 1)
    se = float(np.sqrt(s2 * np.linalg.inv(X.T @ X)[1, 1]))
    return float(np.expm1(beta[1])), se


def fit_team(leads: pd.DataFrame, timezone: str, prior: Team) -> tuple[Team, list[Part]]:
    """The reps seen in first touches, each with working weekdays and hours as touched.

    A rep works a weekday when at least 2% of his touches fall on it; his hours run from the
    2nd to the 98th percentile of his touch times of day (whole hours). Work per touch,
    attempts, cadence and shrinkage stay the prior's (the lead table has no activity
    durations). The share of leads each rep got says whether leads were dealt round-robin.
    """
    if "first_touch_at" not in leads or "rep_id" not in leads or leads["first_touch_at"].isna().all():
        return prior, [Part("team: reps and hours", f"{prior.size} reps", False, 0, "no first touches with reps")]
    touched = leads["first_touch_at"].notna() & leads["rep_id"].notna()
    reps = leads.loc[touched, "rep_id"].astype(str)
    codes, names = pd.factorize(reps)
    counts = reps.value_counts()
    kept = counts[counts >= MIN_REP_TOUCHES].index
    if len(kept) == 0:
        return prior, [Part("team: reps and hours", f"{prior.size} reps", False, 0, "too few touches per rep")]
    roster = []
    utc = leads.loc[touched, "first_touch_at"]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    rows_of = {name: order[bounds[i] : bounds[i + 1]] for i, name in enumerate(names)}
    for name in sorted(kept):
        mine = utc.iloc[rows_of[name]]
        zone = rep_zone(mine, timezone)
        at = _local(mine, zone)
        days = np.bincount(at.dt.day_of_week.to_numpy(), minlength=7) / len(at)
        weekdays = tuple(int(d) for d in np.flatnonzero(days >= 0.02)) or (0, 1, 2, 3, 4)
        hours = at.dt.hour.to_numpy() + at.dt.minute.to_numpy() / 60.0
        start = float(np.floor(np.quantile(hours, 0.02)))
        end = float(min(24.0, max(np.ceil(np.quantile(hours, 0.98)), start + 1)))
        calendar = WorkingCalendar(timezone=zone, weekdays=weekdays, start_hour=start, end_hour=end)
        roster.append(Rep(name=name, calendar=calendar))
    shares = counts[kept] / counts[kept].sum()
    routing = "round_robin" if shares.max() <= 1.5 * shares.min() else "pooled"
    team = dataclasses.replace(prior, roster=tuple(roster), reps=len(roster), routing=routing)
    n = int(touched.sum())
    hours = ", ".join(
        sorted({f"{r.calendar.start_hour:g}-{r.calendar.end_hour:g}h {r.calendar.timezone}" for r in roster})
    )
    return team, [
        Part("team: reps", f"{len(roster)} ({routing}, shares {shares.min():.0%} to {shares.max():.0%})", True, n, ""),
        Part("team: working hours", hours, True, n, ""),
        Part(
            "team: work per touch and cadence",
            f"{prior.first_touch.median_minutes:g} min, {prior.attempts} attempts",
            False,
            0,
            "simulate.Team defaults: the history has no activity durations",
        ),
        Part("team: shrinkage", f"{prior.shrinkage:.0%}", False, 0, "simulate.Team default"),
    ]


ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Helsinki",
    "Australia/Sydney",
)
"""Zones with daylight saving a rep may work in when the history's own zone has none."""

MIN_SHIFT_HOURS = 0.6
"""A rep's first touches start this much earlier or later between winter and summer in the
history's zone, and not in another, and his hours are read in that other zone."""


def rep_zone(touches: pd.Series, timezone: str) -> str:
    """The zone a rep's day is steady in: the history's, unless his working day moves by a
    daylight-saving hour between winter and summer there (a history exported in
    UTC of a team in New York); then the zone of ``ZONES`` where it does not move and the
    day opens nearest 9 a.m. (zones that change the clock on the same days cannot be told
    apart otherwise)."""

    def opening(zone: str) -> tuple[float, float]:
        """How far the working day (the 2nd to 98th percentile of touch times) moves between
        winter and summer, and when it opens."""
        local = _local(touches, zone)
        month = local.dt.month.to_numpy()
        hours = local.dt.hour.to_numpy() + local.dt.minute.to_numpy() / 60.0
        winter, summer = hours[np.isin(month, (1, 2, 12))], hours[np.isin(month, (6, 7, 8))]
        start = float(np.quantile(hours, 0.02))
        if winter.size < 20 or summer.size < 20:
            return 0.0, start
        middle = [np.mean(np.quantile(x, (0.02, 0.98))) for x in (winter, summer)]
        return abs(float(middle[0] - middle[1])), start

    own, _ = opening(timezone)
    if own < MIN_SHIFT_HOURS:
        return timezone
    steady = [(abs(start - 9.0), zone) for zone in ZONES for shift, start in [opening(zone)] if shift < own / 2]
    # of the zones where the day is steady, the one where it opens nearest 9 a.m.
    return min(steady)[1] if steady else timezone


def stage_exponents(
    p: np.ndarray, factors: dict[str, np.ndarray], stages: dict[str, tuple[np.ndarray, np.ndarray]]
) -> dict[str, float]:
    """Exponents ``a`` with ``mean(factor * p ** a) = observed`` per stage.

    ``stages[name] = (at_risk, passed)``: masks of the leads that reached the stage's start
    and of those that passed it; ``factors[name]`` (default 1) is the response decay the
    world applies at that stage, per lead. ``nan`` for a stage nobody reached.
    """
    out = {}
    for name, (at_risk, passed) in stages.items():
        q = np.clip(p[at_risk], 1e-9, 1.0)
        factor = factors[name][at_risk] if name in factors else np.ones(q.size)
        target = passed[at_risk].mean() if at_risk.any() else np.nan
        if not np.isfinite(target):
            out[name] = float("nan")
            continue

        def f(a, q=q, factor=factor, target=target):
            return float(np.mean(factor * q**a)) - target

        lo, hi = 1e-6, 50.0
        if f(lo) <= 0:
            out[name] = lo
        elif f(hi) >= 0:
            out[name] = hi
        else:
            out[name] = float(brentq(f, lo, hi, xtol=1e-6))
    return out


def fit_after_touch(leads: pd.DataFrame, prior: Funnel) -> tuple[Funnel, list[Part]]:
    """Times between stages, deal amounts and time to close, from the history's deals."""
    day = pd.Timedelta(days=1)
    changes, parts = {}, []

    def gap(a: str, b: str) -> pd.Series:
        if a not in leads or b not in leads:
            return pd.Series(dtype=float)
        g = (leads[b] - leads[a]) / day
        return g[(g >= 0) & g.notna()]

    for name, a, b in (("days_to_sql", "sal_at", "sql_at"), ("days_to_opportunity", "sql_at", "opportunity_at")):
        g = gap(a, b)
        if len(g) >= 20:
            changes[name] = max(float(g.mean()), 0.01)
            parts.append(Part(f"funnel: {name.replace('_', ' ')}", f"{changes[name]:.1f}", True, len(g), ""))
        else:
            parts.append(
                Part(f"funnel: {name.replace('_', ' ')}", f"{getattr(prior, name):g}", False, 0, "Funnel default")
            )
    existing = leads["lead_type"].astype("object") == "existing_customer"
    won = leads["customer_at"].notna() if "customer_at" in leads else pd.Series(False, index=leads.index)
    length = gap("opportunity_at", "closed_at")
    for name, group in (("days_to_close_new", ~existing), ("days_to_close_expansion", existing)):
        g = length[length.index.isin(leads.index[group & won]) & (length > 0)]
        if len(g) >= 20:
            changes[name] = float(np.median(g))
            parts.append(Part(f"funnel: {name.replace('_', ' ')}", f"{changes[name]:.0f}", True, len(g), ""))
        else:
            parts.append(
                Part(f"funnel: {name.replace('_', ' ')}", f"{getattr(prior, name):g}", False, 0, "Funnel default")
            )
    g = length[length.index.isin(leads.index[won]) & (length > 0)]
    if len(g) >= 20:
        changes["close_spread"] = float(np.std(np.log(g)))
    amounts = _amounts(leads, won, existing)
    changes.update(amounts[0])
    parts += amounts[1]
    if "deal_stage" in leads:
        stage = leads["deal_stage"].astype("object")
        opened = stage.notna()
        if opened.sum() >= 20:
            changes["on_hold_share"] = float((stage[opened] == "on_hold").mean())
    return dataclasses.replace(prior, **changes), parts


def _amounts(leads, won, existing) -> tuple[dict, list[Part]]:
    """Deal amounts: new business log-linear in log company size, expansion a median."""
    if "amount" not in leads or leads.loc[won, "amount"].notna().sum() < 20:
        return {}, [Part("funnel: deal amounts", "none in the history", False, 0, "no amounts: revenue is not money")]
    amount = pd.to_numeric(leads["amount"], errors="coerce")
    new = won & ~existing & amount.gt(0)
    out = {}
    if new.sum() >= 20:
        y = np.log(amount[new].to_numpy(dtype=float))
        size = (
            pd.to_numeric(leads.loc[new, "company_size"], errors="coerce").to_numpy(dtype=float)
            if "company_size" in leads
            else np.full(y.size, np.nan)
        )
        ok = np.isfinite(size) & (size > 0)
        if ok.sum() >= 20:
            X = np.column_stack([np.ones(ok.sum()), np.log(size[ok] / 150.0)])
            beta, *_ = np.linalg.lstsq(X, y[ok], rcond=None)
            out["amount_new_median"] = float(np.exp(beta[0]))
            out["amount_size_elasticity"] = float(beta[1])
            out["amount_spread"] = float(np.std(y[ok] - X @ beta))
        else:
            out["amount_new_median"] = float(np.exp(np.median(y)))
            out["amount_size_elasticity"] = 0.0
            out["amount_spread"] = float(np.std(y))
    ex = won & existing & amount.gt(0)
    if ex.sum() >= 10:
        out["amount_expansion_median"] = float(amount[ex].median())
    n = int((won & amount.gt(0)).sum())
    value = ", ".join(f"{k.replace('amount_', '')} {v:,.3g}" for k, v in out.items())
    return out, [Part("funnel: deal amounts", value, True, n, "")]
