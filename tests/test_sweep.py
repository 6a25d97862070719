"""simulate.sweep: the same numbers whatever ran them, failures reported, tidy tables."""

import concurrent.futures as cf

import numpy as np
import pandas as pd
import pytest

import simulate
from simulate.sweeps import SerialExecutor, grid, replace_path, sweep


@pytest.fixture(scope="module")
def scenarios():
    base = simulate.Scenario(months=1)
    return grid(base, {"team.reps": [2, 4], "rules.mql_threshold": [55.0, 65.0]})


@pytest.fixture(scope="module")
def serial(scenarios):
    return sweep(scenarios, seeds=[1, 2], executor=SerialExecutor(), progress=False)


def test_summary_is_tidy_with_the_varying_parameters(scenarios, serial):
    s = serial.summary
    assert len(s) == 8 and serial.failures.empty
    assert {"scenario", "seed", "team.reps", "rules.mql_threshold", "mqls", "sla_compliance", "wins", "revenue"} <= set(
        s.columns
    )
    assert "months" not in s.columns  # the same in every scenario
    # each row is exactly what a single run of that scenario and seed gives
    row = s[(s["scenario"] == 3) & (s["seed"] == 2)].iloc[0]
    one = simulate.run(scenarios[3], seed=2)
    assert row["mqls"] == one.leads["mql_at"].notna().sum()
    assert row["wins"] == one.leads["customer_at"].notna().sum()
    assert row["team.reps"] == 4 and row["rules.mql_threshold"] == 65.0
    assert len(serial.monthly) == 8 * 1


def test_process_pool_gives_identical_numbers(scenarios, serial):
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        pooled = sweep(scenarios, seeds=[1, 2], executor=pool, progress=False)
    pd.testing.assert_frame_equal(pooled.summary, serial.summary)
    pd.testing.assert_frame_equal(pooled.monthly, serial.monthly)


def test_default_pool_and_seed_count(scenarios):
    a = sweep(scenarios[:2], seeds=2, max_workers=2, progress=False)
    b = sweep(scenarios[:2], seeds=2, executor=SerialExecutor(), progress=False)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    children = np.random.SeedSequence(0).spawn(2)
    assert sorted(set(a.summary["seed"])) == sorted(int(c.generate_state(1, dtype=np.uint32)[0]) for c in children)


@pytest.mark.slow
def test_local_dask_cluster_gives_identical_numbers(scenarios, serial):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = sweep(scenarios, seeds=[1, 2], executor=client.get_executor(), progress=False)
    pd.testing.assert_frame_equal(result.summary, serial.summary)


def test_a_failed_task_is_reported_and_the_rest_kept(scenarios):
    broken = simulate.Scenario(months=1, arrivals=simulate.Arrivals())
    # a scenario corrupted after validation (on its own Arrivals): its run raises in the task
    object.__setattr__(broken.arrivals, "leads_per_month", -5.0)
    result = sweep({"good": scenarios[0], "broken": broken}, seeds=[1], executor=SerialExecutor(), progress=False)
    assert list(result.summary["scenario"]) == ["good"]
    assert list(result.failures["scenario"]) == ["broken"]
    assert "ValueError" in result.failures["error"].iloc[0]
    assert result.failures["arrivals.leads_per_month"].iloc[0] == -5.0


def test_keep_runs_and_named_scenarios(scenarios):
    result = sweep({"lean": scenarios[0]}, seeds=[7], executor=SerialExecutor(), progress=False, keep_runs=True)
    assert set(result.runs) == {("lean", 7)}
    assert isinstance(result.runs[("lean", 7)], simulate.RunResult)


def test_replace_path_and_errors():
    s = replace_path(simulate.Scenario(), "sla.hours", 4.0)
    assert s.sla.hours == 4.0
    with pytest.raises(ValueError, match=r"'team\.crew': Team has no field 'crew'"):
        replace_path(simulate.Scenario(), "team.crew", 3)
    with pytest.raises(ValueError, match=r"Team\.reps must be >= 1"):
        replace_path(simulate.Scenario(), "team.reps", 0)
    with pytest.raises(TypeError, match=r"scenario 'x' is a dict"):
        sweep({"x": {}}, seeds=[1], executor=SerialExecutor(), progress=False)


def test_a_text_progress_bar_is_plain_text(capsys):
    """``progress="text"``: a plain bar on stderr (it shows in a notebook's HTML export,
    where a widget bar is blank)."""
    sweep(simulate.Scenario(months=1), seeds=[1], executor=SerialExecutor(), progress="text")
    err = capsys.readouterr().err
    assert "sweep" in err and "1/1" in err
