"""The sales side of a run: states, SLA, calendars and wins that follow the truth."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import simulate
from simulate.calendar import ALWAYS_OPEN, WorkingCalendar
from simulate.funnel import ResponseDecay
from simulate.team import SLA, Team


@pytest.fixture(scope="module")
def default_run():
    return simulate.run(seed=21)


def state_of(leads: pd.DataFrame) -> pd.Series:
    """Each MQL's state at the as-of date, read from the table's columns alone."""
    stage = leads["deal_stage"].astype("object")
    states = {
        "won": leads["customer_at"].notna(),
        "lost": stage.eq("closed_lost"),
        "on_hold": stage.eq("on_hold"),
        "open_deal": stage.isin(["meeting_booked", "proposal"]),
        "recycled": leads["recycled_reason"].notna(),
    }
    frame = pd.DataFrame(states)
    in_progress = leads["mql_at"].notna() & ~frame.any(axis=1)
    frame["in_progress"] = in_progress
    return frame


def test_every_mql_ends_in_exactly_one_state(default_run):
    leads = default_run.leads
    states = state_of(leads)
    mql = leads["mql_at"].notna()
    assert (states[mql].sum(axis=1) == 1).all()
    # leads that never became MQLs never reached sales
    sales_cols = ["first_touch_at", "sal_at", "sql_at", "opportunity_at", "customer_at", "closed_at"]
    assert leads.loc[~mql, sales_cols].isna().all().all()
    assert leads.loc[~mql, "recycled_reason"].isna().all() and leads.loc[~mql, "rep_id"].isna().all()
    # MQLs handed off long before the as-of date are no longer waiting for a first touch
    old = mql & (leads["mql_at"] < default_run.as_of - pd.Timedelta(days=60))
    assert leads.loc[old, "first_touch_at"].notna().mean() > 0.99


def test_stages_follow_each_other(default_run):
    leads = default_run.leads
    for later, earlier in [
        ("sal_at", "first_touch_at"),
        ("sql_at", "sal_at"),
        ("opportunity_at", "sql_at"),
        ("customer_at", "opportunity_at"),
    ]:
        reached = leads[later].notna()
        assert leads.loc[reached, earlier].notna().all(), later
        assert (leads.loc[reached, later] >= leads.loc[reached, earlier]).all(), later
    won = leads["won"].fillna(False).astype(bool)
    assert (leads.loc[won, "deal_stage"] == "closed_won").all()
    assert (leads.loc[won, "customer_at"] == leads.loc[won, "closed_at"]).all()
    assert (leads.loc[leads["amount"].notna(), "opportunity_at"].notna()).all()
    assert (leads["first_touch_at"].dropna() >= leads.loc[leads["first_touch_at"].notna(), "mql_at"]).all()


def test_recycle_reasons_follow_the_hidden_truth(default_run):
    leads, truth = default_run.leads, default_run.truth
    reason = leads["recycled_reason"].astype("object")
    assert truth.loc[reason.eq("bad_data").to_numpy(), "bad_data"].all()
    touched_bad = truth["bad_data"].to_numpy() & leads["first_touch_at"].notna().to_numpy()
    assert reason[touched_bad].eq("bad_data").all()
    assert not truth.loc[reason.eq("not_a_fit").to_numpy(), "fit_ok"].any()
    existing = leads["lead_type"].astype("object").eq("existing_customer")
    assert not reason[existing].eq("not_a_fit").any()
    bant_ok = truth[["budget", "authority", "need", "timing"]].all(axis=1).to_numpy()
    assert not bant_ok[reason.eq("no_bant").to_numpy()].any()
    assert (
        not truth.loc[leads["sql_at"].notna().to_numpy(), ["budget", "authority", "need", "timing"]]
        .eq(False)
        .any()
        .any()
    )


def test_first_touches_happen_in_working_hours(default_run):
    """Friday-evening MQLs wait for Monday: every touch is inside the reps' calendar."""
    leads = default_run.leads
    team = default_run.scenario.team
    local = leads["first_touch_at"].dropna().dt.tz_convert(team.calendar.timezone)
    hours = local.dt.hour + local.dt.minute / 60
    assert local.dt.day_of_week.isin(team.calendar.weekdays).all()
    assert ((hours >= team.calendar.start_hour) & (hours < team.calendar.end_hour)).all()
    assert not local.dt.strftime("%Y-%m-%d").isin(team.calendar.holidays).any()
    friday_night = leads["mql_at"].dt.tz_convert(team.calendar.timezone)
    fri = (friday_night.dt.day_of_week == 4) & (friday_night.dt.hour >= 18) & leads["first_touch_at"].notna()
    assert fri.sum() > 0
    touched = leads.loc[fri, "first_touch_at"].dt.tz_convert(team.calendar.timezone)
    monday_9am = (friday_night[fri].dt.normalize() + pd.DateOffset(days=3)) + pd.Timedelta(hours=9)
    assert (touched >= monday_9am).all()


def test_calendar_clock_sla_is_first_touch_within_hours():
    s = simulate.Scenario(months=2)
    s = s.replace(sla=SLA(hours=24.0, clock="calendar", breach="none"))
    leads = simulate.run(s, seed=2).leads
    known = leads["sla_met"].notna()
    response = leads["first_touch_at"] - leads["mql_at"]
    expected = response <= pd.Timedelta(hours=24)
    assert (leads.loc[known, "sla_met"].astype(bool) == expected[known]).all()
    assert leads.loc[known, "sla_met"].mean() < 1


def instant_team() -> Team:
    return Team(reps=40, calendar=ALWAYS_OPEN, shrinkage=0.0, routing="pooled")


@pytest.mark.parametrize("team", ["instant", "slow"])
def test_wins_follow_truth_and_response_decay(team):
    """Expected wins = sum over worked MQLs of p_buy x connect_decay(wait) x qualify_decay(wait)."""
    s = simulate.Scenario()
    # one trip per lead: a lead back from nurture gets a second, fresh chance
    s = s.replace(funnel=dataclasses.replace(s.funnel, nurture_returns=False))
    if team == "instant":
        s = s.replace(team=instant_team(), sla=SLA(clock="calendar", hours=1.0, breach="none"))
    else:
        s = s.replace(team=dataclasses.replace(s.team, reps=3), sla=dataclasses.replace(s.sla, breach="none"))
    result = simulate.run(s, seed=5)
    leads, truth = result.leads, result.truth
    # MQLs of the first four months: their deals have closed by the as-of date
    early = (leads["mql_at"] < pd.Timestamp("2026-05-01", tz="UTC")).to_numpy()
    wait = (leads["first_touch_at"] - leads["mql_at"]).dt.total_seconds().to_numpy() / 60
    assert np.isfinite(wait[early]).all()
    f = s.funnel
    p = truth["p_buy"].to_numpy()[early] * f.connect_decay(wait[early]) * f.qualify_decay(wait[early])
    wins = leads["customer_at"].notna().to_numpy()[early].sum()
    # on-hold deals never close; each won deal is won with p_won, so on-hold removes none
    assert abs(wins - p.sum()) < 4 * np.sqrt(np.sum(p * (1 - p))), (wins, p.sum())
    if team == "instant":
        assert np.median(wait[early]) < 30
    else:
        assert np.median(wait[early]) > 60 * 8


def test_response_decay_curve():
    d = ResponseDecay(phases=((0.5, 10.0), (0.3, 600.0)), floor=0.2)
    assert d(np.array([0.0]))[0] == pytest.approx(1.0)
    assert d(np.array([10.0]))[0] == pytest.approx(0.2 + 0.25 + 0.3 * 2 ** (-10 / 600))
    assert d(np.array([1e9]))[0] == pytest.approx(0.2)
    with pytest.raises(ValueError, match=r"weights and floor must add up to 1"):
        ResponseDecay(phases=((0.5, 10.0),), floor=0.2)


def test_more_reps_more_compliance_same_arrivals():
    base = simulate.Scenario(months=4)
    shares = []
    for reps in (2, 3, 4, 6):
        team = dataclasses.replace(base.team, reps=reps, routing="pooled", attempts=1)
        leads = simulate.run(base.replace(team=team, sla=dataclasses.replace(base.sla, breach="none")), seed=3).leads
        shares.append(leads["sla_met"].mean())
    assert all(a <= b for a, b in zip(shares, shares[1:])), shares
    assert shares[0] < shares[-1]


def test_summary_reports_the_queue(default_run):
    s = default_run.summary
    for column in (
        "sla_compliance",
        "median_response_hours",
        "p90_response_hours",
        "rep_utilisation",
        "backlog_at_month_end",
        "sal_rate",
        "sql_rate",
        "opportunity_rate",
        "win_rate",
        "wins",
        "revenue",
    ):
        assert column in s.columns
    assert ((s["rep_utilisation"] >= 0) & (s["rep_utilisation"] <= 1 + 1e-9)).all()
    leads = default_run.leads
    assert s["wins"].sum() == leads["customer_at"].notna().sum()
    assert s["revenue"].sum() == pytest.approx(leads.loc[leads["customer_at"].notna(), "amount"].sum())
    month = leads["mql_at"].dt.tz_localize(None).dt.to_period("M")
    expected = leads["sla_met"].astype("Float64").groupby(month).mean()
    np.testing.assert_allclose(s["sla_compliance"].to_numpy(), expected.reindex(s.index).to_numpy(dtype=float))


def test_roster_with_time_zones_names_reps():
    roster = (
        simulate.team.Rep(name="ana", calendar=WorkingCalendar(timezone="America/New_York")),
        simulate.team.Rep(name="ben", calendar=WorkingCalendar(timezone="Europe/London")),
    )
    s = simulate.Scenario(months=1)
    leads = simulate.run(s.replace(team=dataclasses.replace(s.team, roster=roster)), seed=1).leads
    assert set(leads["rep_id"].dropna()) == {"ana", "ben"}
    ben = leads.loc[leads["rep_id"] == "ben", "first_touch_at"].dropna().dt.tz_convert("Europe/London")
    assert ((ben.dt.hour >= 9) & (ben.dt.hour < 17)).all()


def test_leads_come_back_from_nurture(default_run):
    leads = default_run.leads
    back = leads["returned_at"].notna()
    assert back.sum() > 0
    nurture_days = pd.Timedelta(days=default_run.scenario.funnel.nurture_days)
    assert (leads.loc[back, "returned_at"] >= leads.loc[back, "mql_at"] + nurture_days).all()
    assert (leads.loc[back, "returned_at"] > leads.loc[back, "first_touch_at"]).all()
    # the return moment is one of the lead's own events
    moments = set(zip(default_run.events["lead_id"], default_run.events["at"]))
    assert all((i, t) in moments for i, t in zip(leads.loc[back, "lead_id"], leads.loc[back, "returned_at"]))
    # without returns, nobody comes back and the first trips are the same
    s = default_run.scenario
    once = simulate.run(s.replace(funnel=dataclasses.replace(s.funnel, nurture_returns=False)), seed=21).leads
    assert once["returned_at"].isna().all()
    assert once["customer_at"].notna().sum() < leads["customer_at"].notna().sum()
