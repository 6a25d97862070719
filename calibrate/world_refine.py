"""Refine a fitted world by replaying its past: the method of simulated moments.

The stage conversions a history shows mix first trips and comebacks from nurture, and the
wait's effect falls on some stages more than others; fitted stage by stage from the table,
the world's chances come out a little off. Replaying the history (its own MQL moments, its
team, the same months) and comparing its funnel with the history's corrects them: each
stage's exponent moves by ``log(observed / replayed) / mean(log p)`` of the leads at that
stage (the slope of ``log mean p ** a`` in ``a``), for a few rounds.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from simulate import seeding
from simulate.table import reached_stages

__all__ = ["funnel_moments", "refine_stages"]

ROUNDS = 2
SEEDS = 2
REPLAY_LEADS = 60_000
"""Refinement replays a world scaled to at most this many leads a year (arrivals and reps
alike), so that a history of millions refines in seconds; the stage chances it sets do not
depend on the volume."""


def funnel_moments(leads: pd.DataFrame) -> dict[str, float]:
    """The funnel's conversions in a lead table: per stage, passed over reached (a stage
    counts as reached where it or a later one is dated)."""
    mql = leads["mql_at"].notna()
    reason = leads["recycled_reason"].astype("object")
    touched = leads["first_touch_at"].notna() & mql
    good = touched & (reason != "bad_data")
    reached = reached_stages(leads)
    counts = {c: int(reached[c].sum()) for c in ("sal_at", "sql_at", "opportunity_at", "customer_at")}
    unreachable = int((good & (reason == "unreachable")).sum())
    return {
        "connect": 1.0 - unreachable / max(int(good.sum()), 1),
        "fit": counts["sal_at"] / max(int(good.sum()) - unreachable, 1),
        "bant": counts["sql_at"] / max(counts["sal_at"], 1),
        "opportunity": counts["opportunity_at"] / max(counts["sql_at"], 1),
        "won": counts["customer_at"] / max(counts["opportunity_at"], 1),
    }


def refine_stages(world, observed: dict[str, float], *, rounds: int = ROUNDS, seeds: int = SEEDS, seed: int = 0):
    """The world with its stage exponents moved until its replay shows ``observed``.

    Returns the world and the largest relative gap left between replayed and observed
    conversions.
    """
    full = world
    world = scaled(world, REPLAY_LEADS)
    sample = world.sample
    log_p = np.log(np.clip(sample.p_win, 1e-9, 1.0))
    mql = np.isfinite(sample.mql_after_min)
    slope = float(np.mean(log_p[mql])) if mql.any() else float(np.mean(log_p))
    gap = np.nan
    for r in range(rounds + 1):
        replayed = _replayed(world, seeds, seed + 100 * r)
        gaps = {k: np.log(max(observed[k], 1e-9) / max(replayed[k], 1e-9)) for k in observed}
        gap = float(max(abs(np.expm1(v)) for v in gaps.values()))
        if r == rounds:
            break
        exponents = dict(sample.stage_exponents)
        for k, v in gaps.items():
            if np.isfinite(v) and observed[k] > 0:
                exponents[k] = float(np.clip(exponents[k] + v / slope, 1e-6, 50.0))
        sample = dataclasses.replace(sample, stage_exponents=exponents)
        world = dataclasses.replace(world, sample=sample)
    return dataclasses.replace(
        full, sample=dataclasses.replace(full.sample, stage_exponents=sample.stage_exponents)
    ), gap


def scaled(world, leads: int):
    """The world with its arrivals and team cut to about ``leads`` leads a year (unchanged
    when it has fewer): the same mix, profiles and load per rep."""
    a = world.scenario.arrivals
    per_year = a.leads_per_month * 12 + sum(c.extra_leads for c in a.campaigns)
    share = leads / per_year if per_year > 0 else 1.0
    if share >= 1:
        return world
    arrivals = dataclasses.replace(
        a,
        leads_per_month=a.leads_per_month * share,
        campaigns=tuple(dataclasses.replace(c, extra_leads=c.extra_leads * share) for c in a.campaigns),
    )
    team = world.scenario.team
    team = team.with_size(max(1, round(team.size * share)))
    return dataclasses.replace(world, scenario=world.scenario.replace(arrivals=arrivals, team=team))


def _replayed(world, seeds: int, seed: int) -> dict[str, float]:
    from calibrate.replayed import until_outcomes

    longer, until = until_outcomes(world)
    last = world.mql_window[1]
    rows = []
    for s in seeding.seed_list(seeds, seed=seed):
        leads = longer.run(int(s)).leads
        leads = leads[leads["created_at"] < pd.Timestamp(last, tz="UTC") + pd.Timedelta(days=1)].copy()
        for column in ("sal_at", "sql_at", "opportunity_at", "customer_at"):
            leads[column] = leads[column].where(leads[column] <= until)
        rows.append(funnel_moments(leads))
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
