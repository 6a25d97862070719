"""Capture the pinned outputs with the API as it was before the layout change (run once, at c4749fd).

Kept for the record of how ``pinned.json`` was made; ``tests/test_pinned.py`` recomputes the
same outputs with the current API and compares.
"""

import dataclasses
import json
import sys

import numpy as np
from calibrate.load import analytic_load, simulated_load
from calibrate.recommend import prepare

import calibrate
import simulate


def world():
    s = simulate.Scenario()
    return s.replace(arrivals=dataclasses.replace(s.arrivals, leads_per_month=900.0), months=8)


def frame_digest(df):
    out = {}
    for c in df.columns:
        col = df[c]
        if col.dtype.kind in "fiub":
            v = col.to_numpy(dtype=float)
            out[c] = [None if not np.isfinite(x) else round(float(x), 9) for x in v]
        else:
            out[c] = [None if x is None or (isinstance(x, float) and np.isnan(x)) else str(x) for x in col.tolist()]
    return out


def main(path):
    scen = world()
    res = simulate.run(scen, seed=3)
    leads = res.leads
    pinned = {
        "run_leads_rows": len(leads),
        "run_events_rows": len(res.events),
        "run_leads_sample": frame_digest(leads.iloc[::97].reset_index(drop=True)),
        "run_summary": frame_digest(res.summary.reset_index(drop=True)),
    }
    history = calibrate.History.from_run(res)
    inputs = prepare(history, horizon_days=120.0, random_state=0)
    team, sla, funnel = scen.team, scen.sla, scen.funnel
    thresholds = np.unique(np.quantile(inputs.score, np.linspace(0.2, 0.95, 9)))
    kw = dict(
        team=team, sla=sla, funnel=funnel, start=inputs.start, days=inputs.days, contact_rate=0.68, bad_data_share=0.04
    )
    pinned["analytic_load"] = frame_digest(analytic_load(inputs.score, inputs.handoff_min, thresholds, **kw))
    pinned["simulated_load"] = frame_digest(
        simulated_load(inputs.score, inputs.handoff_min, thresholds[::3], seeds=[0, 1], **kw)
    )
    rec = calibrate.recommend(
        history, team=team, sla=sla, funnel=funnel, simulate_seeds=[0, 1, 2], bootstrap=50, seed=0
    )
    pinned["recommend_threshold"] = rec.threshold
    pinned["recommend_expected"] = {k: [f.value, f.low, f.high] for k, f in rec.expected.items()}
    pinned["recommend_current"] = {k: f.value for k, f in rec.current.items()}
    pinned["tradeoffs"] = frame_digest(rec.tradeoffs.table)
    ver = calibrate.verify(rec, scen, seeds=[1000, 1001])
    pinned["verify"] = frame_digest(ver)
    with open(path, "w") as fh:
        json.dump(pinned, fh, indent=0, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1])
