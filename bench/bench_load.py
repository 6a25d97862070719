"""The SLA load of every candidate threshold: analytic at scale, and its simulated check.

Targets (issue 5): the trade-off table over all distinct thresholds of a 1-million-lead
history with analytic SLA under 1 second, of which this load part must be a small share;
a simulated check of 200 thresholds x 20 seeds for a year of the default team under 10
seconds. The analytic figure is split into its steps (the one pass over the leads, the
evaluation of every threshold, the search for the team size needed).
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import multiprocessing as mp
import os
import time

import numpy as np
import pandas as pd

import simulate
from bench._table import Row, print_table
from calibrate.capacity import SalesCapacity, Window
from calibrate.sla import analytic_load, simulated_load
from calibrate.sla.analytic import _Model, _prepare

START = dt.date(2026, 1, 1)


def _best_of(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def million_lead_history(n: int = 1_000_000, days: int = 365, seed: int = 0):
    """Integer scores 0..149 (about 150 distinct values, a bell around 60) and handoffs over
    a year: weekdays twice as busy as weekend days, half of each day's leads between 13:00
    and 22:00 UTC (the US working day), the rest at any hour."""
    rng = np.random.default_rng(seed)
    weekday = (START.weekday() + np.arange(days)) % 7 < 5
    p = np.where(weekday, 2.0, 1.0)
    day = rng.choice(days, size=n, p=p / p.sum())
    busy = rng.random(n) < 0.5
    minute = np.where(busy, rng.uniform(13 * 60, 22 * 60, n), rng.uniform(0, 1440, n))
    handoff = day * 1440.0 + minute
    score = np.clip(np.round(rng.normal(60, 25, n)), 0, 149)
    return score, handoff


def default_year_history(seed: int = 3):
    """A default year's lead creation times and a uniform random score."""
    run = simulate.run(simulate.Scenario(), seed=seed)
    created = run.leads["created_at"]
    handoff = ((created - pd.Timestamp(START, tz="UTC")).dt.total_seconds() / 60.0).to_numpy()
    return np.random.default_rng(0).random(handoff.size), handoff


def _analytic_rows() -> list[Row]:
    capacity = SalesCapacity.from_scenario(simulate.Scenario()).with_reps(40)
    team, sla = capacity.team, capacity.sla
    score, handoff = million_lead_history()
    thresholds = np.unique(score)
    kw = dict(capacity=capacity, window=Window(start=START, days=365))
    analytic_load(score[:2000], handoff[:2000], thresholds, **kw)  # compile once
    t_all = _best_of(lambda: analytic_load(score, handoff, thresholds, **kw))
    t_prep = _best_of(lambda: _prepare(score, handoff, thresholds, **kw))
    prep = _prepare(score, handoff, thresholds, **kw)
    model = _Model(prep, team)
    ks = np.arange(thresholds.size)
    sizes = np.full(thresholds.size, team.size)
    t_eval = _best_of(lambda: model.evaluate(ks, sizes))
    current = model.compliance(ks, sizes)
    t_reps = _best_of(lambda: _Model(prep, team).reps_needed(sla.target, None, current))
    size = f"{score.size:,} leads, {thresholds.size} thresholds, 40 reps"
    return [
        Row("analytic load of every threshold", size, f"{t_all:.3f} s", "< 0.5 s (whole table)", met=t_all < 0.5),
        Row("  of which: one pass over the leads", "", f"{t_prep:.3f} s", ""),
        Row("  of which: every threshold at the team size", "", f"{t_eval:.3f} s", ""),
        Row("  of which: reps needed (search)", "", f"{t_reps:.3f} s", ""),
    ]


def _simulated_rows() -> list[Row]:
    score, handoff = default_year_history()
    counts = np.linspace(2000, 12000, 200)  # 16% to 98% utilisation of the default team
    thresholds = np.quantile(score, 1.0 - counts / score.size)
    kw = dict(capacity=SalesCapacity.from_scenario(simulate.Scenario()), window=Window(start=START, days=365))
    simulated_load(score, handoff, thresholds[:2], seeds=1, **kw)  # compile once
    t0 = time.perf_counter()
    simulated_load(score, handoff, thresholds, seeds=2, **kw)
    per_seed = (time.perf_counter() - t0) / 2
    workers = os.cpu_count() or 1
    context = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    with cf.ProcessPoolExecutor(workers, mp_context=context) as pool:
        simulated_load(score, handoff, thresholds[:2], seeds=workers, executor=pool, **kw)  # start them
        t0 = time.perf_counter()
        table = simulated_load(score, handoff, thresholds, seeds=20, executor=pool, **kw)
        t_pool = time.perf_counter() - t0
    mqls = table.groupby("threshold")["mqls"].first()
    size = f"200 thresholds ({int(mqls.min()):,}-{int(mqls.max()):,} MQLs) x 20 seeds"
    return [
        Row(
            "simulated check, default team, a year",
            size,
            f"one process: {per_seed * 20:.1f} s",
            "< 10 s in one process",
            f"{workers} processes: {t_pool:.2f} s",
            "",
            met=per_seed * 20 < 10,
        ),
    ]


def rows() -> list[Row]:
    return _analytic_rows() + _simulated_rows()


def main() -> None:
    print_table(rows())


if __name__ == "__main__":
    main()
