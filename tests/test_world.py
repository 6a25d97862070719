"""The simulated population matches its scenario within sampling error."""

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simulate
from simulate.arrivals import simulate_arrivals
from simulate.behaviour import simulate_events
from simulate.leads import simulate_leads
from simulate.table import BEHAVIOUR_COLUMNS, EVENT_KINDS

P_MIN = 1e-4  # a correct generator fails one of these chi-square checks 1 time in 10,000


def chi2_p(observed, expected_share) -> float:
    observed = np.asarray(observed, dtype=float)
    expected = np.asarray(expected_share, dtype=float)
    expected = expected / expected.sum() * observed.sum()
    return stats.chisquare(observed, expected).pvalue


def test_yearly_volume_is_twelve_months_of_leads(plain_world):
    s = plain_world(leads_per_month=2000.0)
    n = simulate_arrivals(s, rng=1).created_min.size
    # Poisson total with mean 12 x 2000 (the multipliers average to 1)
    assert abs(n - 24000) < 4 * np.sqrt(24000)


def test_monthly_weekday_and_hour_profiles(plain_world):
    s = plain_world(leads_per_month=20000.0)
    created = simulate_arrivals(s, rng=2).created_min
    ts = pd.Timestamp(s.start, tz="UTC") + pd.to_timedelta(created, unit="min")
    a = s.arrivals
    # months: volume follows the multipliers
    months = np.bincount(ts.month - 1, minlength=12)
    assert chi2_p(months, a.month_multipliers) > P_MIN
    # hours: the profile (UTC world, so local hour = UTC hour)
    hours = np.bincount(ts.hour, minlength=24)
    assert chi2_p(hours, a.hour_profile) > P_MIN
    # weekdays: each month's volume is shared among its days by the weekday weights
    dates = pd.date_range(s.start, periods=s.days, freq="D")
    w = np.asarray(a.weekday_profile)[dates.day_of_week]
    month_total = pd.Series(w).groupby(dates.month).transform("sum").to_numpy()
    per_day = np.asarray(a.month_multipliers)[dates.month - 1] * w / month_total
    expected_weekday = np.bincount(dates.day_of_week, weights=per_day, minlength=7)
    assert chi2_p(np.bincount(ts.day_of_week, minlength=7), expected_weekday) > P_MIN


def test_local_hour_profile_follows_the_time_zone(plain_world):
    s = plain_world(leads_per_month=20000.0).replace(timezone="Asia/Tokyo")
    created = simulate_arrivals(s, rng=3).created_min
    local = (pd.Timestamp(s.start, tz="UTC") + pd.to_timedelta(created, unit="min")).tz_convert("Asia/Tokyo")
    hours = np.bincount(local.hour, minlength=24)
    assert chi2_p(hours, s.arrivals.hour_profile) > P_MIN


def test_campaign_burst_adds_its_leads_on_its_days(plain_world):
    burst = simulate.Campaign(name="launch", start="2026-05-04", days=5, extra_leads=3000.0, source="events")
    s = plain_world(campaigns=(burst,))
    leads = simulate_leads(s, rng=4)
    names = list(s.population.sources)
    from_campaign = leads.campaign == 0
    assert abs(from_campaign.sum() - 3000) < 4 * np.sqrt(3000)
    assert np.all(leads.source[from_campaign] == names.index("events"))
    day = leads.created_min[from_campaign] // 1440
    first = (dt.date(2026, 5, 4) - dt.date(2026, 1, 1)).days
    assert day.min() >= first and day.max() < first + 5


def test_source_lead_type_and_attribute_shares(plain_world):
    s = plain_world(leads_per_month=10000.0)
    leads = simulate_leads(s, rng=5)
    pop = s.population
    assert chi2_p(np.bincount(leads.source, minlength=len(pop.sources)), list(pop.sources.values())) > P_MIN
    share = leads.lead_type.mean()
    se = np.sqrt(pop.existing_customer_share * (1 - pop.existing_customer_share) / leads.n)
    assert abs(share - pop.existing_customer_share) < 4 * se
    # the fit loadings tilt each lead's odds, yet the population shares are the scenario's
    for name in ("job_level", "industry", "region", "email_domain"):
        spec = pop.categorical(name)
        counts = np.bincount(leads.attributes[name], minlength=len(spec.shares))
        assert chi2_p(counts, list(spec.shares.values())) > P_MIN, name


def test_fit_tilts_attributes_and_size(plain_world):
    leads = simulate_leads(plain_world(leads_per_month=5000.0), rng=6)
    levels = leads.categories["job_level"]
    vp = leads.attributes["job_level"] == levels.index("vp")
    student = leads.attributes["job_level"] == levels.index("student")
    assert leads.fit[vp].mean() > leads.fit[student].mean() + 0.5
    rho = np.corrcoef(leads.fit, np.log(leads.company_size))[0, 1]
    assert rho > 0.3


def test_bad_data_rate_by_email_domain(plain_world):
    s = plain_world(leads_per_month=10000.0)
    leads = simulate_leads(s, rng=7)
    domains = leads.categories["email_domain"]
    for j, name in enumerate(domains):
        mask = leads.attributes["email_domain"] == j
        p = s.population.bad_data_share[name]
        assert abs(leads.bad_data[mask].mean() - p) < 4 * np.sqrt(p * (1 - p) / mask.sum()) + 1e-9


def test_event_counts_match_the_journey_model(plain_world):
    """Awareness only, no intent effect: counts are Poisson(rate x E[min(Exp(m), M)])."""
    s = plain_world(leads_per_month=3000.0)
    b = dataclasses.replace(
        s.behaviour,
        consideration_logit=-50.0,
        active_days_intent_slope=0.0,
        intent_sensitivity={},
        mean_active_days=20.0,
        max_active_days=30.0,
    )
    s = s.replace(behaviour=b)
    leads = simulate_leads(s, rng=8)
    events = simulate_events(s, leads, rng=9)
    mean_days = b.mean_active_days * (1 - np.exp(-b.max_active_days / b.mean_active_days))
    for j, kind in enumerate(EVENT_KINDS):
        rate = b.rates[kind][0]
        counts = events.counts[:, j]
        if kind == "email_click":
            counts = counts[~leads.bad_data]
        expected = rate * mean_days
        # variance of a Poisson mixture: mean + rate^2 Var(L), Var(L) <= E[L^2]
        var = expected + rate**2 * 2 * b.mean_active_days**2
        assert abs(counts.mean() - expected) < 4 * np.sqrt(var / counts.size) + 1e-12, kind
    # every event lies inside its lead's active window, in time order within the lead
    created = leads.created_min[events.lead]
    assert np.all(events.t_min >= created - 1e-6)
    assert np.all(events.t_min <= created + b.max_active_days * 1440 + 1e-6)
    same = events.lead[1:] == events.lead[:-1]
    assert np.all(np.diff(events.t_min)[same] >= 0)


def test_decision_content_comes_after_consideration(small_scenario):
    leads = simulate_leads(small_scenario, rng=10)
    events = simulate_events(small_scenario, leads, rng=11)
    demo = events.kind == EVENT_KINDS.index("demo_request")
    considering = events.consideration_min[events.lead[demo]]
    # demo requests never happen in the awareness stage (their awareness rate is 0)
    assert np.all(np.isfinite(considering))
    assert np.all(events.t_min[demo] >= considering - 1e-6)
    late = events.kind == EVENT_KINDS.index("late_content_download")
    assert np.all(events.t_min[late] >= events.consideration_min[events.lead[late]] - 1e-6)


def test_bad_email_never_clicks(small_scenario):
    leads = simulate_leads(small_scenario, rng=12)
    events = simulate_events(small_scenario, leads, rng=13)
    assert events.counts[leads.bad_data, EVENT_KINDS.index("email_click")].sum() == 0


def test_truth_follows_its_equation(small_scenario):
    """Counts summarise the events; p_buy and the stage chances fit together."""
    s = small_scenario.replace(truth=dataclasses.replace(small_scenario.truth, noise_sd=0.0))
    result = simulate.run(s, seed=3)
    leads, truth, t = result.leads, result.truth, s.truth
    complete = result.events.groupby("lead_id").size().reindex(leads["lead_id"], fill_value=0)
    assert (complete.to_numpy() == leads[list(BEHAVIOUR_COLUMNS)].sum(axis=1).to_numpy()).all()
    p = 1 / (1 + np.exp(-truth["logit"]))
    expected = np.where(truth["bad_data"], 0.0, p)
    assert np.allclose(truth["p_buy"], expected)
    # the stage chances multiply back to the chance to buy (fit and BANT drawn per lead)
    a = t.stage_exponents
    assert np.allclose(
        truth["p_connect"] * p ** a["fit"] * p ** a["bant"] * truth["p_opportunity"] * truth["p_won"], expected
    )


def test_truth_logit_on_complete_streams():
    s = simulate.Scenario(months=7)
    s = s.replace(truth=dataclasses.replace(s.truth, noise_sd=0.0))
    result = simulate.run(s, seed=4)
    leads, truth = result.leads, result.truth
    done = ((result.as_of - leads["created_at"]).dt.days > s.behaviour.max_active_days).to_numpy()
    assert done.sum() > 1000
    t = s.truth
    logit = np.full(len(leads), t.intercept)
    for attr, weights in t.weights.items():
        logit += leads[attr].astype("object").map(weights).fillna(0.0).to_numpy(float)
    logit += t.company_size_per_log10 * np.log10(leads["company_size"].to_numpy(float))
    for column, w in t.behaviour_weights.items():
        logit += w * np.log1p(leads[column].to_numpy(float))
    np.testing.assert_allclose(logit[done], truth["logit"].to_numpy()[done])


def test_bant_and_fit_follow_the_stage_chances():
    result = simulate.run(simulate.Scenario(months=3), seed=5)
    truth = result.truth
    p = 1 / (1 + np.exp(-truth["logit"].to_numpy()))
    # noise is unobserved: use the drawn chance through p_won = p**a_won
    a = result.scenario.truth.stage_exponents
    p = truth["p_won"].to_numpy() ** (1 / a["won"])
    for flag, exponent in (("fit_ok", a["fit"]), ("bant_ok", a["bant"])):
        observed = truth["fit_ok"] if flag == "fit_ok" else truth[["budget", "authority", "need", "timing"]].all(axis=1)
        expected = p**exponent
        se = np.sqrt(np.sum(expected * (1 - expected)))
        assert abs(observed.sum() - expected.sum()) < 4 * se, flag


def test_mql_leads_are_better_buyers(small_scenario):
    result = simulate.run(small_scenario, seed=6)
    mql = result.leads["mql_at"].notna().to_numpy()
    assert 0.05 < mql.mean() < 0.6
    assert result.truth["p_buy"][mql].mean() > 3 * result.truth["p_buy"][~mql].mean()


@pytest.mark.parametrize("seed", [0, 1])
def test_default_world_is_plausible(seed):
    """The documented default: ~3,000 new leads a month, a B2B funnel's proportions."""
    result = simulate.run(seed=seed)
    per_month = result.summary["leads"]
    assert len(per_month) == 12
    campaigns = sum(c.extra_leads for c in result.scenario.arrivals.campaigns)
    assert abs(per_month.sum() - (36000 + campaigns)) < 4 * np.sqrt(36000 + campaigns)
    assert 0.10 < result.leads["mql_at"].notna().mean() < 0.35
    assert 0.01 < result.truth["p_buy"].mean() < 0.08
