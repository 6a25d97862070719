"""Each lead's contact rate, learned from the history's first touches, against the simulator's truth."""

import dataclasses
import warnings

import numpy as np
import pytest

import simulate
from calibrate.history import History
from calibrate.inputs import prepare
from calibrate.labels import SelectionBiasWarning
from calibrate.reachability import estimate_reachability


@pytest.fixture(scope="module")
def world_run():
    s = simulate.Scenario()
    world = s.replace(arrivals=dataclasses.replace(s.arrivals, leads_per_month=1500.0), months=8)
    return simulate.run(world, seed=11)


def test_better_leads_are_reached_more_often_as_in_the_truth(world_run):
    history = History.from_run(world_run)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionBiasWarning)
        inputs = prepare(history, random_state=0, cross_fit=1)
    contact, bad = inputs.contact_rate, inputs.bad_data_share
    truth = world_run.truth.set_index("lead_id").loc[history.leads["lead_id"]]
    touched = history.leads["first_touch_at"].notna().to_numpy()
    good = touched & ~truth["bad_data"].to_numpy(dtype=bool)
    # among the touched leads with good data, by quartile of the fitted chance: the estimate
    # against the truth's chance to connect, within 3 binomial standard errors of the quartile
    quartile = np.digitize(inputs.p_win, np.quantile(inputs.p_win[good], [0.25, 0.5, 0.75]))
    means = []
    for q in range(4):
        m = good & (quartile == q)
        p_true = truth["p_connect"].to_numpy()[m].mean()
        se = np.sqrt(p_true * (1 - p_true) / m.sum())
        assert abs(contact[m].mean() - p_true) < 3 * se, q
        means.append(contact[m].mean())
    assert np.all(np.diff(means) > 0)  # reached more often the better the lead
    realised_bad = truth["bad_data"].to_numpy(dtype=bool)[touched].mean()
    assert bad[touched].mean() == pytest.approx(realised_bad, abs=3 * np.sqrt(realised_bad / touched.sum()))


def test_no_estimate_without_recorded_touches(world_run):
    leads = world_run.leads.drop(columns=["recycled_reason"])
    assert estimate_reachability(leads, np.full(len(leads), 0.05)) is None
    few = world_run.leads.iloc[:50]
    assert estimate_reachability(few, np.full(len(few), 0.05)) is None
