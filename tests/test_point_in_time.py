"""Point in time: features, scores and chances are what was known at the MQL decision."""

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import simulate
from calibrate.history import History, load_history
from calibrate.inputs import prepare
from calibrate.labels import SelectionBiasWarning, make_labels
from calibrate.point_in_time import PointInTimeWarning, counts_at, peak_scores, read_events, rules_mql
from simulate.table import BEHAVIOUR_COLUMNS, LeadTableError


@pytest.fixture(scope="module")
def run():
    s = simulate.Scenario()
    world = s.replace(arrivals=dataclasses.replace(s.arrivals, leads_per_month=600.0), months=6)
    return simulate.run(world, seed=5)


@pytest.fixture(scope="module")
def history(run):
    return History.from_run(run)


@pytest.fixture(scope="module")
def fitted(history):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionBiasWarning)
        return prepare(history, random_state=0, cross_fit=1)


def _later_events(history, rng):
    """Demo requests and pricing views one minute to a day after each MQL moment (before as_of)."""
    leads = history.leads[history.leads["mql_at"].notna()]
    at = leads["mql_at"] + pd.to_timedelta(rng.integers(1, 1440, len(leads)), unit="min")
    keep = (at <= history.as_of).to_numpy()
    extra = pd.DataFrame({"lead_id": leads["lead_id"].to_numpy()[keep], "at": at[keep].to_numpy()})
    extra["at"] = pd.to_datetime(extra["at"], utc=True)
    rows = [extra.assign(kind=kind) for kind in ("demo_request", "pricing_page_view", "webinar")]
    events = pd.concat([history.events, *rows], ignore_index=True)
    events["kind"] = events["kind"].astype("category")
    return events


def test_features_and_chances_ignore_events_after_the_decision(history, fitted):
    later = dataclasses.replace(history, events=_later_events(history, np.random.default_rng(0)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionBiasWarning)
        before = make_labels(history, horizon_days=60)
        after = make_labels(later, horizon_days=60)
        again = prepare(later, scorecard=fitted.scorecard)
    pd.testing.assert_frame_equal(before.X, after.X)
    old = fitted.old_mql
    # an MQL's chance is read at its MQL moment: what came after cannot move it
    np.testing.assert_array_equal(again.p_win[old], fitted.p_win[old])
    np.testing.assert_array_equal(again.handoff_min, fitted.handoff_min)
    # its peak score moves (the CRM would see those events); the other leads' do not
    assert (again.score[old] != fitted.score[old]).any()
    np.testing.assert_array_equal(again.score[~old], fitted.score[~old])


def test_peak_score_is_the_highest_score_over_the_events(history, fitted):
    card = fitted.scorecard
    features = list(card.feature_names_in_)
    rng = np.random.default_rng(1)
    rows = rng.choice(len(history.leads), 40, replace=False)
    leads = history.leads.iloc[rows].reset_index(drop=True)
    until = pd.Series(history.as_of, index=leads.index)
    peak, reached, X, path = peak_scores(card.predict_points, features, leads, history.events, until)
    counts = [c for c in features if c in BEHAVIOUR_COLUMNS]
    for i, lead in leads.iterrows():  # the slow way: score the lead after every one of its events
        own = history.events[history.events["lead_id"] == lead["lead_id"]].sort_values("at")
        moments = [lead["created_at"], *own["at"]]
        frames = []
        for moment in moments:
            row = leads.loc[[i], features].copy()
            at = counts_at(np.array([lead["lead_id"]]), pd.Series([moment]), own, counts)
            row[counts] = at.to_numpy()
            frames.append(row)
        scores = card.predict_points(pd.concat(frames, ignore_index=True))
        assert peak[i] == scores.max()
        assert reached[i] == moments[int(np.argmax(scores))]
        level = np.median(scores)  # the first moment the score reached it: an MQL moment
        assert path.first_reaching(level)[i] == moments[int(np.argmax(scores >= level))]


def test_rules_in_force_are_scored_as_the_simulator_scored_them(run, history):
    mql = rules_mql(run.scenario.rules, history.leads, history.events, history.as_of)
    np.testing.assert_array_equal(mql, history.leads["mql_at"].notna().to_numpy())


def test_end_of_history_counters_are_warned_about_with_a_backtest(history):
    totals = dataclasses.replace(history, events=None, counts_at="end")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = prepare(totals, random_state=0, cross_fit=1)
    messages = [str(w.message) for w in caught if issubclass(w.category, PointInTimeWarning)]
    assert len(messages) == 1
    assert "'demo_requests'" in messages[0] and "ROC AUC from" in messages[0] and "--events" in messages[0]
    assert not inputs.point_in_time
    snapshots = dataclasses.replace(totals, counts_at="decision")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PointInTimeWarning)
        warnings.simplefilter("ignore", SelectionBiasWarning)
        assert prepare(snapshots, random_state=0, cross_fit=1).point_in_time


def test_an_export_with_an_events_file_is_point_in_time(tmp_path, run, history):
    leads = run.leads.drop(columns=list(BEHAVIOUR_COLUMNS))  # the export has no counters at all
    leads.to_csv(tmp_path / "leads.csv", index=False)
    run.events.to_csv(tmp_path / "events.csv", index=False)
    loaded = load_history(tmp_path / "leads.csv", events=tmp_path / "events.csv", as_of=history.as_of)
    assert loaded.counts_at == "events" and len(loaded.events) == len(history.events)
    for column in BEHAVIOUR_COLUMNS:  # the counts are the events' totals
        np.testing.assert_array_equal(loaded.leads[column].to_numpy(), history.leads[column].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error", PointInTimeWarning)
        warnings.simplefilter("ignore", SelectionBiasWarning)
        make_labels(loaded)


def test_a_bad_events_file_names_the_file_column_and_row(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("lead_id,at,kind\n1,2026-01-02 10:00,page_view\n2,not a time,page_view\n")
    with pytest.raises(LeadTableError, match=r"events.csv: column 'at', row 1: 'not a time'"):
        read_events(path)
    path.write_text("lead_id,at,kind\n1,2026-01-02 10:00,page_view\n2,2026-01-02 11:00,phone_call\n")
    with pytest.raises(LeadTableError, match=r"kind.*phone_call.*row 1"):
        read_events(path)
    path.write_text("lead_id,when,kind\n1,2026-01-02 10:00,page_view\n")
    with pytest.raises(LeadTableError, match="lacks the column 'at'"):
        read_events(path)
