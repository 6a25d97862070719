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
            n_days = (first_day.replace(year=d.year + d.month // 12, month=d.month % 12 + 1)
                      - first_day).days
            whole_weight[key] = sum(
                a.weekday_profile[(first_day + dt.timedelta(days=j)).weekday()]
                for j in range(n_days)
            )
        out[i] = (a.leads_per_month * a.month_multipliers[d.month - 1] / mean_mult
                  * a.weekday_profile[d.weekday()] / whole_weight[key])
    return out


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
    offsets = utc_offset_minutes(scenario.timezone, start - dt.timedelta(days=1), days + 2)
    hour_cdf = np.cumsum(a.hour_profile) / np.sum(a.hour_profile)
    source_names = list(scenario.population.sources)
    source_p = np.asarray(list(scenario.population.sources.values()))

    counts = rng.poisson(expected_daily_leads(scenario, -1, days + 1))
    day = np.repeat(np.arange(-1, days + 1), counts)
    source = rng.choice(len(source_names), size=day.size, p=source_p / source_p.sum())
    campaign = np.full(day.size, -1)

    days_parts, source_parts, campaign_parts = [day], [source], [campaign]
    for j, c in enumerate(a.campaigns):
        first = (dt.date.fromisoformat(c.start) - start).days
        in_range = np.arange(first, first + c.days)
        in_range = in_range[(in_range >= 0) & (in_range < days)]
        if in_range.size == 0:
            continue
        n = rng.poisson(c.extra_leads * in_range.size / c.days)
        days_parts.append(rng.choice(in_range, size=n))
        source_parts.append(np.full(n, source_names.index(c.source)))
        campaign_parts.append(np.full(n, j))
    day = np.concatenate(days_parts)
    source = np.concatenate(source_parts)
    campaign = np.concatenate(campaign_parts)

    hour = np.searchsorted(hour_cdf, rng.random(day.size), side="right")
    hour = np.minimum(hour, 23)
    local = day * MINUTES_PER_DAY + (hour + rng.random(day.size)) * 60.0
    created = local - offsets[day + 1]
    created = np.round(created * 60.0) / 60.0  # whole seconds, as a CRM stores them
    order = np.argsort(created, kind="stable")
    keep = (created[order] >= 0) & (created[order] < days * MINUTES_PER_DAY)
    order = order[keep]
    return ArrivalTimes(created_min=created[order], source=source[order], campaign=campaign[order])
