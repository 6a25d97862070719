"""The analytic load of a score-ordered queue (``calibrate.sla.priority_load``) against the engine.

Target (issue 17, part 4): where :func:`calibrate.sla.validity` trusts the analytic model for
a team that calls in order of score, its SLA compliance within 0.03 of the engine's mean
(as for first in, first out) and its value kept weighted by each lead's chance to win (what
the trade-off table's wins rest on) within 0.015 (the FIFO model's value kept is checked to
0.01; the score-ordered one was measured to 0.0125, round robin with 2 reps its largest gap).

The grid: the cells of ``bench_sla_validity`` on the weekday calendar (business and
calendar clock, 8- and 24-hour SLAs, round robin and pooled, 2, 4 and 10 reps, utilisation
about 0.3, 0.6, 0.75 and 0.9) with ``discipline="highest_score"``; uniform scores, a chance
to win rising with the score (``0.02 + 0.4 score^3``), ``SEEDS`` seeds of the engine each.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from bench._table import Row, print_table
from bench.bench_sla_validity import DAYS, REPS, ROUTINGS, START, Cell, _leads, pooled_grid
from calibrate.capacity import Window
from calibrate.sla import analytic_load, simulated_load, validity
from calibrate.sla.validity import WITHIN

SEEDS = 10
VALUE_TOL = 0.015
HOURS = (8.0, 24.0)


def chance(score: np.ndarray) -> np.ndarray:
    """The chance to win of a lead of ``score`` (uniform on 0..1)."""
    return 0.02 + 0.4 * score**3


def cells() -> list[Cell]:
    return [
        Cell("weekday", clock, hours, routing, reps)
        for clock in ("business", "calendar")
        for hours in HOURS
        for routing in ROUTINGS
        for reps in REPS
    ]


def measure(cell: Cell, seeds: int = SEEDS, seed: int = 0) -> pd.DataFrame:
    """Analytic and simulated figures of one score-ordered cell at each load."""
    window = Window(start=START, days=DAYS)
    base = cell.capacity()
    capacity = base.replace(team=dataclasses.replace(base.team, discipline="highest_score"))
    score, handoff, thresholds = _leads(cell, window, seed)
    kw = dict(capacity=capacity, window=window, weights={"wins": chance(score)})
    a = analytic_load(score, handoff, thresholds, **kw)
    s = simulated_load(score, handoff, thresholds, seeds=seeds, seed=seed + 1, **kw)
    g = s.groupby("threshold")[["sla_compliance", "value_kept_wins"]]
    mean, se = g.mean(), g.std(ddof=1) / np.sqrt(seeds)
    fifo = analytic_load(score, handoff, thresholds, capacity=base, window=window)
    out = pd.DataFrame(
        {
            **dataclasses.asdict(cell),
            "utilisation": a["utilisation"].to_numpy(),
            "compliance_analytic": a["sla_compliance"].to_numpy(),
            "compliance_simulated": mean["sla_compliance"].to_numpy(),
            "compliance_se": se["sla_compliance"].to_numpy(),
            "value_analytic": a["value_kept_wins"].to_numpy(),
            "value_fifo": fifo["value_kept"].to_numpy(),
            "value_simulated": mean["value_kept_wins"].to_numpy(),
            "value_se": se["value_kept_wins"].to_numpy(),
            "trusted": validity(capacity, window).trusted_at(a["utilisation"].to_numpy()),
        }
    )
    out["gap"] = out["compliance_analytic"] - out["compliance_simulated"]
    out["value_gap"] = out["value_analytic"] - out["value_simulated"]
    out["inside"] = (out["gap"].abs() <= WITHIN) & (out["value_gap"].abs() <= VALUE_TOL)
    return out


def rows() -> list[Row]:
    table, workers, elapsed = pooled_grid(measure, cells)
    out = []
    for r in table.itertuples():
        out.append(
            Row(
                "score order: SLA compliance and wins-weighted value kept (shares), analytic vs simulated",
                f"{r.clock} {r.hours:g} h, {r.routing}, {r.reps} reps, util {r.utilisation:.2f}",
                f"SLA {r.compliance_analytic:.3f} vs {r.compliance_simulated:.3f} +- {r.compliance_se:.3f}; "
                f"value {r.value_analytic:.3f} vs {r.value_simulated:.3f} +- {r.value_se:.3f}",
                f"|gaps| <= {WITHIN}, {VALUE_TOL} where trusted",
                f"FIFO model's value {r.value_fifo:.3f}",
                "trusted" if r.trusted else "simulate",
                met=bool(r.inside) if r.trusted else None,
            )
        )
    trusted = table[table["trusted"]]
    out.append(
        Row(
            "score-ordered cells trusted and within the tolerances (count)",
            f"{len(table)} cells, {SEEDS} seeds each, {DAYS} days",
            f"{int(trusted['inside'].sum())} of {len(trusted)} trusted",
            "every trusted cell inside",
            f"max |gap| trusted: SLA {trusted['gap'].abs().max():.3f}, value {trusted['value_gap'].abs().max():.3f}; "
            f"all: SLA {table['gap'].abs().max():.3f}, value {table['value_gap'].abs().max():.3f}",
            met=bool(trusted["inside"].all()),
        )
    )
    out.append(Row("benchmark wall time", f"{workers} processes", f"{elapsed:.0f} s", "< 300 s", met=elapsed < 300))
    return out


def main() -> None:
    print_table(rows())


if __name__ == "__main__":
    main()
