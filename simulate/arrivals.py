"""Lead arrivals over calendar time: monthly volume, weekday and hour profiles, campaign bursts."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import numpy as np

from simulate.scenario import Scenario

MINUTES_PER_DAY = 1440.0


@dataclass(frozen=True, slots=True)
class ArrivalTimes:
    """Arrival times in minutes since the scenario start (00:00 UTC), sorted.

    ``source`` indexes ``scenario.population.sources``; ``campaign`` indexes
    ``scenario.arrivals.campaigns`` (-1 for the base flow).
    """

    created_min: np.ndarray
    source: np.ndarray
    campaign: np.ndarray


def utc_offset_minutes(timezone: str, start: dt.date, days: int) -> np.ndarray:
    """Local-minus-UTC offset (minutes) at local noon of each day, for ``days`` days."""
    tz = zoneinfo.ZoneInfo(timezone)
    out = np.empty(days)
    for i in range(days):
        noon = dt.datetime.combine(start + dt.timedelta(days=i), dt.time(12), tzinfo=tz)
        out[i] = noon.utcoffset().total_seconds() / 60.0
    return out


def expected_daily_leads(scenario: Scenario, first: int = 0, last: int | None = None) -> np.ndarray:
    """Expected base-flow leads on each local day ``first <= i < last`` (campaigns excluded).

    Day ``i`` is the scenario start plus ``i`` days; days before the start or after the end
    follow the same monthly and weekday profile (they feed the edges of the UTC window).
    """
    a = scenario.arrivals
    last = scenario.days if last is None else last
    dates = [scenario.start_date + dt.timedelta(days=i) for i in range(first, last)]
    mean_mult = float(np.mean(a.month_multipliers))
    whole_weight: dict[tuple[int, int], float] = {}
    out = np.empty(len(dates))
    for i, d in enumerate(dates):
        key = (d.year, d.month)
        if key not in whole_weight:
            first_day = dt.date(d.year, d.month, 1)
            n_days = (first_day.replace(year=d.year + d.month // 12, month=d.month % 12 + 1) - first_day).days
            whole_weight[key] = sum(
                a.weekday_profile[(first_day + dt.timedelta(days=j)).weekday()] for j in range(n_days)
            )
        out[i] = (
            a.leads_per_month
            * a.month_multipliers[d.month - 1]
            / mean_mult
            * a.weekday_profile[d.weekday()]
            / whole_weight[key]
        )
    return out


def sorted_minutes_of_day(counts: np.ndarray, hour_profile, rng: np.random.Generator) -> np.ndarray:
    """For days with ``counts`` arrivals each, local minutes of day in time order per day.

    The minutes of one day are ``counts[d]`` independent draws from the hour profile (uniform
    within the hour), produced already sorted: sorted uniforms as normalised exponential
    spacings, through the profile's piecewise-linear inverse distribution function. This
    saves sorting the year's arrivals.
    """
    counts = np.asarray(counts, dtype=np.int64)
    groups, n = counts.size, int(counts.sum())
    cs = np.cumsum(rng.standard_exponential(n + groups))
    ends = np.cumsum(counts + 1) - 1
    base = np.concatenate([[0.0], cs[ends[:-1]]])
    total = cs[ends] - base
    inside = np.ones(n + groups, dtype=bool)
    inside[ends] = False
    group = np.repeat(np.arange(groups), counts)
    u = (cs[inside] - base[group]) / total[group]
    knots = np.concatenate([[0.0], np.cumsum(hour_profile)]) / np.sum(hour_profile)
    hour = np.clip(np.searchsorted(knots, u, side="right") - 1, 0, 23)
    width = knots[hour + 1] - knots[hour]
    frac = np.divide(u - knots[hour], width, out=np.zeros_like(u), where=width > 0)
    return (hour + np.clip(frac, 0.0, 1.0)) * 60.0


def simulate_arrivals(scenario: Scenario, *, rng) -> ArrivalTimes:
    """Draw arrival times: Poisson counts per day, hour of day from the profile (local time).

    Parameters
    ----------
    scenario : the world; uses ``arrivals``, ``population.sources``, ``start``, ``months``,
        ``timezone``.
    rng : seed or ``numpy.random.Generator``.
    """
    rng = np.random.default_rng(rng)
    a = scenario.arrivals
    start, days = scenario.start_date, scenario.days
    # local days -1 .. days cover the UTC window [0, days) whatever the time zone
    all_days = np.arange(-1, days + 1)
    offsets = utc_offset_minutes(scenario.timezone, start - dt.timedelta(days=1), days + 2)
    source_names = list(scenario.population.sources)
    source_p = np.asarray(list(scenario.population.sources.values()))

    counts = rng.poisson(expected_daily_leads(scenario, -1, days + 1))
    parts = [(counts, rng.choice(len(source_names), size=counts.sum(), p=source_p / source_p.sum()), -1)]
    for j, c in enumerate(a.campaigns):
        first = (dt.date.fromisoformat(c.start) - start).days
        in_range = (all_days >= max(first, 0)) & (all_days < min(first + c.days, days))
        if not in_range.any():
            continue
        n = rng.poisson(c.extra_leads * in_range.sum() / c.days)
        per_day = np.zeros(all_days.size, dtype=np.int64)
        per_day[in_range] = rng.multinomial(n, np.full(in_range.sum(), 1.0 / in_range.sum()))
        parts.append((per_day, np.full(n, source_names.index(c.source)), j))

    created, source, campaign = [], [], []
    for per_day, src, j in parts:
        minutes = sorted_minutes_of_day(per_day, a.hour_profile, rng)
        day = np.repeat(all_days, per_day)
        created.append(day * MINUTES_PER_DAY + minutes - offsets[day + 1])
        source.append(src)
        campaign.append(np.full(src.size, j))
    created = np.round(np.concatenate(created) * 60.0) / 60.0  # whole seconds, as a CRM stores them
    # each part is (nearly, across a daylight-saving change) in time order: a stable sort of
    # sorted runs is cheap
    order = np.argsort(created, kind="stable")
    keep = (created[order] >= 0) & (created[order] < days * MINUTES_PER_DAY)
    order = order[keep]
    return ArrivalTimes(
        created_min=created[order],
        source=np.concatenate(source)[order],
        campaign=np.concatenate(campaign)[order],
    )
