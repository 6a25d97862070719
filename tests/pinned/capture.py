"""Capture the pinned outputs with the current API: ``python tests/pinned/capture.py tests/pinned/pinned.json``.

Run it only when a change means to move these numbers, and say why in the commit. History of
the file: written at c4749fd (before the layout change, by the old API) and kept through it;
rewritten for "promises that hold" (issue 12): the points are fitted on the counts at the MQL
moment, each lead is scored through its events as the CRM scores it, wins are credited only for
leads the history worked, the expected intervals include the outcomes' noise, a new year's
range is added, the SLA is chosen with a stated confidence, the analytic SLA model has
follow-ups as their own load and a validity rule, and the Scorecard's default is
``monotonic_cst="auto"``. The simulator's own outputs did not move. Rewritten for issue 20:
the wins and revenue intervals span the plausible chances of MQLs from regions the history
never worked (``extrapolated_*`` columns); every point value and the threshold are unchanged.
Rewritten for issue 17: the trade-off table's wins and revenue follow the value kept weighted
by each MQL's chance (and chance times amount), which the simulated check now measures: the
second trips from nurture, which add load but no wins, no longer dilute it. Rows where the
simulation supplies the figures moved (up to 10% at loads past capacity); the recommendation,
its threshold and its verification did not. Rewritten for issue 12's winner's curse: each
threshold is valued on held-out outcomes (``calibrate.held_out``, ten folds), the rules in force
on their own outcomes with the value kept their chances weigh; the wins and revenue of the
table and of the recommendation moved (the expected wins 12.24 -> 11.73 a month), and with
ten folds the cross-fitted chances (and the reachability fitted on them) by a little; the
threshold, the points and the simulator's outputs did not. Rewritten for issue 12's return
trips (``calibrate.return_trips``): thresholds are valued on first-trip outcomes, a trip back from
nurture counts (its load, and a win on it) only under the thresholds that would bring it back, and
the rules in force count only the returns the history made. The recommended threshold moved
29 -> 28 (expected 10.22 wins a month; its verification 11.21); the points and the simulator's
outputs did not. Rewritten for issue 12's deal amounts (``calibrate.deal_amounts``): a lead's
expected amount is a log-linear fit on its attributes known at creation (company size above
all), not its lead type's mean won amount; the revenue figures moved by 1-2% (the tops of the
plausible ranges by up to 20%), the wins, the threshold and the points did not. Rewritten for
the recall's whole: it is the share of every trip's wins (first trips and trips back from
nurture), as its bootstrap range is; it was the first trips' only and reached 111% (the
recommendation's recall 0.895 -> 0.805); nothing else moved. Rewritten for the override rule
(``calibrate.sla.overrides``): the simulation's range is the confidence interval of its mean
over the seeds, not the seeds' own spread; here only ``sim_sla_compliance_low/high`` moved.
"""

import dataclasses
import json
import sys
import warnings

import numpy as np

import calibrate
import simulate
from calibrate.inputs import prepare
from calibrate.sla import analytic_load, simulated_load


def world():
    """The small world the pins are made on (900 leads a month for 8 months, seed 3)."""
    s = simulate.Scenario()
    scenario = s.replace(arrivals=dataclasses.replace(s.arrivals, leads_per_month=900.0), months=8)
    result = simulate.run(scenario, seed=3)
    return scenario, result, calibrate.History.from_run(result)


def digest(df):
    """A table as plain lists, column by column (non-finite numbers as None)."""
    out = {}
    for c in df.columns:
        col = df[c]
        if col.dtype.kind in "fiub" or str(col.dtype) in ("Float64", "Int64", "boolean"):
            v = col.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            out[c] = [None if not np.isfinite(x) else float(x) for x in v]
        else:
            out[c] = [None if x is None or (isinstance(x, float) and np.isnan(x)) else str(x) for x in col.tolist()]
    return out


def estimates(figures):
    """Expected figures as ``[value, low, high, year_low, year_high]`` lists."""
    return {k: [f.value, f.low, f.high, f.year_low, f.year_high] for k, f in figures.items()}


def outputs():
    """Everything that is pinned, computed with the current API."""
    scenario, result, history = world()
    pinned = {
        "run_leads_rows": len(result.leads),
        "run_events_rows": len(result.events),
        "run_leads_sample": digest(result.leads.iloc[::97].reset_index(drop=True)),
        "run_summary": digest(result.summary.reset_index(drop=True)),
    }
    capacity = calibrate.SalesCapacity.from_scenario(scenario)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", calibrate.SelectionBiasWarning)
        inputs = prepare(history, random_state=0)
        rec = calibrate.recommend(history, capacity, simulate_seeds=[0, 1, 2], bootstrap=50, seed=0)
    thresholds = np.unique(np.quantile(inputs.score, np.linspace(0.2, 0.95, 9)))
    kw = dict(capacity=capacity, window=inputs.window)
    pinned["analytic_load"] = digest(analytic_load(inputs.score, inputs.handoff_min, thresholds, **kw))
    pinned["simulated_load"] = digest(
        simulated_load(inputs.score, inputs.handoff_min, thresholds[::3], seeds=[0, 1], **kw)
    )
    pinned["recommend_threshold"] = rec.threshold
    pinned["recommend_expected"] = estimates(rec.expected)
    pinned["recommend_current"] = estimates(rec.current)
    pinned["tradeoffs"] = digest(rec.tradeoffs.table)
    pinned["verify"] = digest(calibrate.verify(rec, scenario, seeds=[1000, 1001]))
    return pinned


if __name__ == "__main__":
    with open(sys.argv[1], "w") as fh:
        json.dump(outputs(), fh, indent=0, sort_keys=True)
