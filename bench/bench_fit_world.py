"""Fitting a world to a history of a million leads (issue 13): under 10 s.

The history is a simulated year of about a million leads (the default world with its volume
and team scaled up, so the reps serve the same load); ``fit_world`` learns arrivals, team,
response-time effect (with its bootstrap interval), funnel and the lead sample, and refines
the stages by replaying the history. The peer is the simulation of the same year, measured
in the same run: a world that takes longer to fit than the year takes to simulate would be
the slow part of every recommendation.
"""

from __future__ import annotations

import dataclasses
import time

import simulate
from bench._table import Row
from calibrate.history import History
from calibrate.world import fit_world


def million_lead_history(leads_per_year: float = 1_000_000, seed: int = 1):
    s = simulate.Scenario()
    scale = leads_per_year / (s.arrivals.leads_per_month * 12)
    arrivals = dataclasses.replace(
        s.arrivals,
        leads_per_month=s.arrivals.leads_per_month * scale,
        campaigns=tuple(dataclasses.replace(c, extra_leads=c.extra_leads * scale) for c in s.arrivals.campaigns),
    )
    s = s.replace(arrivals=arrivals, team=s.team.with_size(round(s.team.size * scale)))
    t0 = time.perf_counter()
    result = simulate.run(s, seed=seed)
    return History.from_run(result), time.perf_counter() - t0


def rows(leads: str = "1000000") -> list[Row]:
    fit_world(History.from_run(simulate.run(simulate.Scenario(months=2), seed=0)), bootstrap=5)  # warm up
    history, t_sim = million_lead_history(float(leads))
    t0 = time.perf_counter()
    world = fit_world(history)
    t_fit = time.perf_counter() - t0
    n = len(history.leads)
    return [
        Row(
            "fit_world (arrivals, team, response effect + bootstrap, funnel, refine by replay)",
            f"{n:,} leads, {world.scenario.team.size} reps",
            f"{t_fit:.1f} s",
            "< 10 s",
            f"simulating that year {t_sim:.1f} s",
            f"{t_fit / t_sim:.2f}x the year",
            t_fit < 10.0,
        )
    ]
