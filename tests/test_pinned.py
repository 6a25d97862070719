"""The layout change kept the numbers: a small world's outputs, pinned before the move.

``tests/pinned/pinned.json`` was written by ``tests/pinned/capture_v0.py`` with the code as it
was before the SLA model became ``calibrate.sla`` and the sales side one ``SalesCapacity``.
The same seeds must give the same tables and the same recommendation now. A later change
that means to move these numbers (a better model) regenerates the file and says why.
"""

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import calibrate
import simulate
from calibrate.inputs import prepare
from calibrate.sla import analytic_load, simulated_load

PINNED = json.loads((Path(__file__).parent / "pinned" / "pinned.json").read_text())


def _digest(df):
    out = {}
    for c in df.columns:
        col = df[c]
        if col.dtype.kind in "fiub":
            v = col.to_numpy(dtype=float)
            out[c] = [None if not np.isfinite(x) else float(x) for x in v]
        else:
            out[c] = [None if x is None or (isinstance(x, float) and np.isnan(x)) else str(x) for x in col.tolist()]
    return out


def _same(got: dict, want: dict, *, columns=None):
    for c in columns or want:
        assert c in got, f"column {c} is gone"
        g, w = got[c], want[c]
        assert len(g) == len(w), c
        for i, (a, b) in enumerate(zip(g, w)):
            if isinstance(b, float) and a is not None:
                assert a == pytest.approx(b, rel=1e-9, abs=1e-9), f"{c}[{i}]: {a} != {b}"
            else:
                assert a == b, f"{c}[{i}]: {a!r} != {b!r}"


@pytest.fixture(scope="module")
def world():
    s = simulate.Scenario()
    scenario = s.replace(arrivals=dataclasses.replace(s.arrivals, leads_per_month=900.0), months=8)
    result = simulate.run(scenario, seed=3)
    return scenario, result, calibrate.History.from_run(result)


def test_the_simulated_history_is_unchanged(world):
    _, result, _ = world
    assert len(result.leads) == PINNED["run_leads_rows"]
    assert len(result.events) == PINNED["run_events_rows"]
    _same(_digest(result.leads.iloc[::97].reset_index(drop=True)), PINNED["run_leads_sample"])
    _same(_digest(result.summary.reset_index(drop=True)), PINNED["run_summary"])


@pytest.fixture(scope="module")
def inputs(world):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", calibrate.SelectionBiasWarning)
        return prepare(world[2], random_state=0)


def test_the_sla_load_is_unchanged(world, inputs):
    scenario = world[0]
    capacity = calibrate.SalesCapacity.from_scenario(scenario)
    thresholds = np.unique(np.quantile(inputs.score, np.linspace(0.2, 0.95, 9)))
    analytic = analytic_load(inputs.score, inputs.handoff_min, thresholds, capacity=capacity, window=inputs.window)
    _same(_digest(analytic), PINNED["analytic_load"])
    sim = simulated_load(
        inputs.score, inputs.handoff_min, thresholds[::3], capacity=capacity, window=inputs.window, seeds=[0, 1]
    )
    _same(_digest(sim), PINNED["simulated_load"])


def test_the_recommendation_is_unchanged(world):
    scenario, _, history = world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", calibrate.SelectionBiasWarning)
        rec = calibrate.recommend(
            history, calibrate.SalesCapacity.from_scenario(scenario), simulate_seeds=[0, 1, 2], bootstrap=50, seed=0
        )
    assert rec.threshold == PINNED["recommend_threshold"]
    for name, want in PINNED["recommend_expected"].items():
        got = rec.expected[name]
        _same({name: [got.value, got.low, got.high]}, {name: want})
    _same({k: [f.value] for k, f in rec.current.items()}, {k: [v] for k, v in PINNED["recommend_current"].items()})
    table = _digest(rec.tradeoffs.table)
    _same(table, PINNED["tradeoffs"])
    ver = calibrate.verify(rec, scenario, seeds=[1000, 1001])
    _same(_digest(ver), PINNED["verify"])
