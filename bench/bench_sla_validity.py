"""Where the analytic SLA model holds: analytic against simulated SLA compliance on a grid.

Target (issue): analytic against simulated SLA compliance within 0.03 over reps 2 to 10 and
utilisation up to 0.9, business and calendar clocks, SLAs of 2 to 24 hours, round robin and
pooled, 24/7 calendars with intraday and weekly arrival profiles; where not, the
simulation is used, and this benchmark says so: every cell shows whether the validity rule
(:func:`calibrate.sla.validity`) trusts the analytic model there, and a trusted cell must be
within 0.03.

The grid: the default team (shrinkage, six attempts over ten business days, reassign at
breach) at 2, 4 and 10 reps; MQL volumes at about 30%, 60% and 90% utilisation; weekday
9-17 New York calendars (business and calendar clock), 24/7 calendars (calendar clock; a
business clock on a calendar that never closes is the same clock), and a roster of half
New York, half Berlin 9-17 (business clock on New York hours); SLAs of 2, 8 and 24 hours;
round robin and pooled. Handoffs follow an intraday profile (a bell around 17:00 UTC over
a floor) and a weekly one (weekend days at 35% of a weekday), over 13 weeks. Each cell:
the analytic figure, the mean of ``SEEDS`` simulated seeds and its standard error.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import datetime as dt
import multiprocessing as mp
import os
import time

import numpy as np
import pandas as pd

import simulate
from bench._table import Row, print_table
from calibrate._testing import profiled_handoffs
from calibrate.capacity import SalesCapacity, Window
from calibrate.sla import analytic_load, simulated_load, validity
from simulate.calendar import ALWAYS_OPEN, WorkingCalendar
from simulate.team import Rep

START = dt.date(2026, 1, 5)  # a Monday
DAYS = 91
SEEDS = 10
TOL = 0.03
REPS = (2, 4, 10)
LOADS = (0.3, 0.6, 0.75, 0.9)
HOURS = (2.0, 8.0, 24.0)
ROUTINGS = ("round_robin", "pooled")
WEEKDAY = WorkingCalendar(timezone="America/New_York")
BERLIN = WorkingCalendar(timezone="Europe/Berlin")


def handoffs(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` handoff minutes over ``DAYS`` days with the weekly and intraday profile
    (``calibrate._testing.profiled_handoffs``)."""
    return profiled_handoffs(n, rng, start=START, days=DAYS)


@dataclasses.dataclass(frozen=True)
class Cell:
    """One run of the grid: a team and an SLA (the loads are thresholds of one run)."""

    calendar: str  # "weekday", "24/7" or "two zones"
    clock: str
    hours: float
    routing: str
    reps: int

    def capacity(self) -> SalesCapacity:
        base = SalesCapacity.from_scenario(simulate.Scenario())
        team = dataclasses.replace(base.team, reps=self.reps, routing=self.routing)
        sla = dataclasses.replace(base.sla, hours=self.hours, clock=self.clock)
        if self.calendar == "24/7":
            team = dataclasses.replace(team, calendar=ALWAYS_OPEN)
            sla = dataclasses.replace(sla, calendar=ALWAYS_OPEN)
        elif self.calendar == "two zones":
            roster = tuple(
                Rep(name=f"{'ny' if i % 2 == 0 else 'berlin'}_{i}", calendar=WEEKDAY if i % 2 == 0 else BERLIN)
                for i in range(self.reps)
            )
            team = dataclasses.replace(team, roster=roster)
            sla = dataclasses.replace(sla, calendar=WEEKDAY)
        else:
            team = dataclasses.replace(team, calendar=WEEKDAY)
            sla = dataclasses.replace(sla, calendar=WEEKDAY)
        return base.replace(team=team, sla=sla)


def cells() -> list[Cell]:
    out = []
    for calendar, clocks in (
        ("weekday", ("business", "calendar")),
        ("24/7", ("calendar",)),
        ("two zones", ("business",)),
    ):
        for clock in clocks:
            for hours in HOURS:
                for routing in ROUTINGS:
                    for reps in REPS:
                        out.append(Cell(calendar, clock, hours, routing, reps))
    return out


def _leads(cell: Cell, window: Window, seed: int):
    """Uniform scores and profiled handoffs, with thresholds at about ``LOADS`` utilisation."""
    capacity = cell.capacity()
    rng = np.random.default_rng(seed)
    # the volume at 100% utilisation, from the model's own utilisation of a first draw
    probe = handoffs(2000, rng)
    u0 = analytic_load(np.ones(probe.size), probe, [1.0], capacity=capacity, window=window)["utilisation"].iloc[0]
    n = int(round(probe.size / u0 * 1.05))
    handoff = handoffs(n, rng)
    score = rng.random(n)
    util = analytic_load(np.ones(n), handoff, [1.0], capacity=capacity, window=window)["utilisation"].iloc[0]
    thresholds = np.quantile(score, 1.0 - np.minimum(np.asarray(LOADS) / util, 1.0))
    return score, handoff, thresholds


def measure(cell: Cell, seeds: int = SEEDS, seed: int = 0) -> pd.DataFrame:
    """Analytic and simulated figures of one cell at each load: one row per load."""
    window = Window(start=START, days=DAYS)
    capacity = cell.capacity()
    score, handoff, thresholds = _leads(cell, window, seed)
    kw = dict(capacity=capacity, window=window)
    a = analytic_load(score, handoff, thresholds, **kw).set_index("threshold")
    s = simulated_load(score, handoff, thresholds, seeds=seeds, seed=seed + 1, **kw)
    g = s.groupby("threshold")[["sla_compliance", "value_kept", "utilisation"]]
    mean, se = g.mean(), g.std(ddof=1) / np.sqrt(seeds)
    rule = validity(capacity, window, utilisation=a["utilisation"].to_numpy())
    trusted = rule.trusted_at(a["utilisation"].to_numpy())
    out = pd.DataFrame(
        {
            **dataclasses.asdict(cell),
            "load": sorted(LOADS, reverse=True),  # thresholds ascending: the highest load first
            "utilisation": a["utilisation"].to_numpy(),
            "compliance_analytic": a["sla_compliance"].to_numpy(),
            "compliance_simulated": mean["sla_compliance"].to_numpy(),
            "compliance_se": se["sla_compliance"].to_numpy(),
            "value_analytic": a["value_kept"].to_numpy(),
            "value_simulated": mean["value_kept"].to_numpy(),
            "value_se": se["value_kept"].to_numpy(),
            "trusted": trusted,
        }
    )
    out["gap"] = out["compliance_analytic"] - out["compliance_simulated"]
    out["inside"] = out["gap"].abs() <= TOL
    return out


def grid(executor: cf.Executor | None = None, *, measure=measure, cells=cells) -> pd.DataFrame:
    """Every cell of ``cells()`` through ``measure`` (in an executor if given)."""
    todo = cells()
    frames = [measure(c) for c in todo] if executor is None else list(executor.map(measure, todo))
    return pd.concat(frames, ignore_index=True)


def pooled_grid(measure=measure, cells=cells) -> tuple[pd.DataFrame, int, float]:
    """The grid in a process pool of every core (``measure`` compiled on one cell first):
    the table, the number of processes and the wall time in seconds."""
    workers = os.cpu_count() or 1
    context = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None
    measure(cells()[0], seeds=1)  # compile
    t0 = time.perf_counter()
    with cf.ProcessPoolExecutor(workers, mp_context=context) as pool:
        table = grid(pool, measure=measure, cells=cells)
    return table, workers, time.perf_counter() - t0


def _label(r) -> str:
    return f"{r.calendar}, {r.clock} {r.hours:g} h, {r.routing}, {r.reps} reps, util {r.utilisation:.2f}"


def rows() -> list[Row]:
    table, workers, elapsed = pooled_grid()
    out = []
    for r in table.itertuples():
        out.append(
            Row(
                "SLA compliance (share), analytic vs simulated",
                _label(r),
                f"{r.compliance_analytic:.3f} vs {r.compliance_simulated:.3f} +- {r.compliance_se:.3f} "
                f"(gap {r.gap:+.3f})",
                f"|gap| <= {TOL} where trusted",
                f"value kept (share) {r.value_analytic:.3f} vs {r.value_simulated:.3f} +- {r.value_se:.3f}",
                "trusted" if r.trusted else "simulate",
                met=bool(r.inside) if r.trusted else None,
            )
        )
    trusted = table[table["trusted"]]
    outside = table[~table["inside"]]
    out.append(
        Row(
            "cells trusted by the validity rule and within 0.03 (count)",
            f"{len(table)} cells, {SEEDS} seeds each, {DAYS} days",
            f"{int(trusted['inside'].sum())} of {len(trusted)} trusted; {len(outside)} cells outside 0.03 in all",
            "every trusted cell within 0.03",
            f"max |gap| trusted {trusted['gap'].abs().max():.3f}, all {table['gap'].abs().max():.3f}",
            met=bool(trusted["inside"].all()),
        )
    )
    out.append(Row("benchmark wall time", f"{workers} processes", f"{elapsed:.0f} s", "< 300 s", met=elapsed < 300))
    return out


def main() -> None:
    print_table(rows())


if __name__ == "__main__":
    main()
