"""Refuse what cannot be right (issue 15, items 3 to 5): numbers finite and in range, sizes
that fit in memory with the memory in the message, dates in 1980 to 2099, configs
consistent on read and write, and one message instead of a traceback from inside."""

import dataclasses
import datetime as dt
import json
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import simulate  # noqa: E402
from calibrate.recommendation import Estimate, Recommendation, RecommendationError  # noqa: E402
from simulate import Scenario, ScoringRules  # noqa: E402
from simulate.bounds import BYTES_PER_EVENT, MAX_LEADS, MEMORY_BUDGET, expected_events_per_lead, memory_text  # noqa: E402
from simulate.calendar import WorkingCalendar  # noqa: E402
from simulate.io import safe_for_spreadsheet  # noqa: E402
from simulate.spec import SpecError  # noqa: E402
from simulate.team import SLA, Team  # noqa: E402

# --- scenarios: numbers, sizes, dates -------------------------------------------------
SCENARIO_NUMBERS = {
    "start before 1980 (nanosecond overflow)": (
        'start = "1500-01-01"\n',
        r"Scenario: Scenario\.start must be a date in 1980 to 2099, got 1500-01-01",
    ),
    "end after 2099": ('start = "2099-06-01"\n', r"the last day of the scenario .* must be a date in 1980 to 2099"),
    "campaign before 1980": (
        '[[arrivals.campaigns]]\nname = "x"\nstart = "1970-01-01"\n',
        r"Campaign 'x' start must be a date in 1980 to 2099",
    ),
    "company size beyond any company": (
        "[population.company_size]\nmax_employees = 1e308\n",
        r"CompanySize\.max_employees must be a finite number in \[0, 1e\+07\], got 1e\+308",
    ),
    "a team of 100,000 reps": ("[team]\nreps = 100000\n", r"Team\.reps must be at most 1,000 .*need about [\d.]+ GiB"),
    "a billion leads a month": (
        "[arrivals]\nleads_per_month = 1e9\n",
        r"arrivals\.leads_per_month \(1e\+09 over 12 months\) makes the scenario about 1\.2e\+10 leads with "
        r"[\d.e+]+ behaviour events, which need about [\d,.]+ TiB of memory; "
        r"at most 8 GiB fit \(about [\d,]+ leads of this behaviour\)",
    ),
    "a campaign of 1e12 leads": (
        '[[arrivals.campaigns]]\nname = "x"\nstart = "2026-02-01"\nextra_leads = 1e12\n',
        r"arrivals\.campaigns 'x' extra_leads \(1e\+12\) makes the scenario about 1e\+12 leads with "
        r"[\d.e+]+ behaviour events, which need about [\d,.]+ PiB",
    ),
    "huge event rates": (
        "[behaviour.rates]\npage_view = [1e6, 1e6, 1e6]\npricing_page_view = [0, 0, 0]\nemail_click = [0, 0, 0]\n"
        "form_submission = [0, 0, 0]\nearly_content_download = [0, 0, 0]\nlate_content_download = [0, 0, 0]\n"
        "webinar = [0, 0, 0]\ndemo_request = [0, 0, 0]\n",
        r"behaviour\.rates .* behaviour events .* which need about [\d,.]+ TiB of memory; at most 8 GiB fit",
    ),
    "huge active days": (
        "[behaviour]\nmax_active_days = 1e7\n",
        r"Behaviour\.max_active_days must be a finite number in \[0, 3650\]",
    ),
    "a huge intent sensitivity": ("[behaviour.intent_sensitivity]\npage_view = 40.0\n", r"behaviour events"),
    "a duration of 1e300 days": (
        "[funnel]\ndays_to_sql = 1e300\n",
        r"funnel\.days_to_sql must be a finite number in \[0, 3650\]",
    ),
    "an SLA of 1e300 hours": ("[sla]\nhours = 1e300\n", r"SLA\.hours must be a finite number in \[0, 8760\]"),
    "a 40-digit integer": (
        "[team]\nattempts = 1000000000000000000000000000000000000000\n",
        r"at most 2\*\*53 .* 40 digits",
    ),
    "a log-normal spread of 100": (
        "[funnel]\namount_spread = 100.0\n",
        r"funnel\.amount_spread must be a finite number in \[0, 5\]",
    ),
    "a weight of 1e12": (
        "[truth]\nintercept = 1e12\n",
        r"Truth\.intercept must be a finite number in \[-1e\+09, 1e\+09\]",
    ),
}


@pytest.mark.parametrize("case", list(SCENARIO_NUMBERS))
def test_a_number_that_cannot_be_right_is_refused_naming_the_key(tmp_path, case):
    text, match = SCENARIO_NUMBERS[case]
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match=rf"^{re.escape(str(path))}: .*{match}"):
        Scenario.from_toml(path)


def test_the_default_is_far_inside_every_bound():
    s = Scenario()
    leads = s.arrivals.leads_per_month * s.months + sum(c.extra_leads for c in s.arrivals.campaigns)
    assert leads < MAX_LEADS / 100
    per_lead = expected_events_per_lead(s.behaviour)
    assert 15 < per_lead < 40  # an upper estimate of the measured ~15 events a lead
    assert leads * per_lead * BYTES_PER_EVENT < MEMORY_BUDGET / 50
    # a big seller: 100,000 leads a month for two years of the default's behaviour still fits
    big = s.replace(months=24, arrivals=dataclasses.replace(s.arrivals, leads_per_month=1e5))
    assert big.months == 24


def test_memory_text():
    assert [memory_text(x) for x in (512, 2048, 3 * 2**30, 7.3 * 2**40)] == ["512 bytes", "2 KiB", "3 GiB", "7.3 TiB"]


def test_numbers_from_the_api_are_checked_as_from_a_file():
    with pytest.raises(ValueError, match=r"SLA\.hours must be a finite number in \[0, 8760\], got inf"):
        SLA(hours=float("inf"))
    with pytest.raises(ValueError, match=r"Duration\.median_minutes must be a finite number"):
        simulate.team.Duration(median_minutes=float("inf"))
    with pytest.raises(ValueError, match=r"Team\.reps must be at most 1,000"):
        Team(reps=1_000_000)
    with pytest.raises(ValueError, match=r"a team's size must be at most 1,000"):
        Team().with_size(5000)
    s = Scenario()
    with pytest.raises(ValueError, match=r"funnel\.days_to_sql must be a finite number"):
        s.replace(funnel=dataclasses.replace(s.funnel, days_to_sql=float("inf")))
    with pytest.raises(ValueError, match=r"rules\.mql_threshold must be a finite number"):
        s.replace(rules=dataclasses.replace(s.rules, mql_threshold=1e300))


def test_huge_whole_numbers_in_rules_are_refused_not_an_overflow(tmp_path):
    path = tmp_path / "rules.json"
    path.write_text('{"fit": {"job_level": {"vp": 1' + "0" * 30 + "}}}")
    with pytest.raises(SpecError, match=r"fit\.job_level\.vp: expected a number of at most 2\*\*53"):
        ScoringRules.from_json(path)


# --- degenerate calendars: one message ---------------------------------------------------
def _holidays(days: int) -> tuple[str, ...]:
    return tuple(str(dt.date(2026, 1, 1) + dt.timedelta(days=d)) for d in range(days))


def test_a_team_whose_calendar_is_all_holidays_gets_one_message(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(f"months = 2\n[team.calendar]\nholidays = {json.dumps(_holidays(60))}\n")
    with pytest.raises(SpecError, match=r"team: no rep has a working day between 2026-01-01 and 2026-02-28 \(every"):
        Scenario.from_toml(path)


def test_an_sla_calendar_without_working_days_gets_one_message():
    s = Scenario(months=1)
    with pytest.raises(ValueError, match=r"sla\.calendar: no working day .* set sla\.clock = 'calendar'"):
        s.replace(sla=dataclasses.replace(s.sla, calendar=WorkingCalendar(holidays=_holidays(31))))
    calendar_clock = dataclasses.replace(s.sla, clock="calendar", calendar=WorkingCalendar(holidays=_holidays(31)))
    assert s.replace(sla=calendar_clock).sla.clock == "calendar"  # the SLA calendar is then not used


def test_one_rep_on_leave_all_period_is_allowed_and_never_touches_a_lead():
    s = Scenario(months=1).replace(arrivals=simulate.Arrivals(leads_per_month=300.0, campaigns=()))
    away = WorkingCalendar(holidays=_holidays(120))
    team = dataclasses.replace(
        s.team, roster=(simulate.team.Rep(name="away", calendar=away), simulate.team.Rep(name="here"))
    )
    leads = simulate.run(s.replace(team=team), seed=0).leads
    touched = leads[leads["first_touch_at"].notna()]
    assert len(touched) > 0 and set(touched["rep_id"]) == {"here"}


# --- configs: consistent on read and on write ----------------------------------------------
def _config_data(**changes) -> dict:
    rules = simulate.scenario.default_rules()
    rec = Recommendation(
        rules=rules,
        threshold=float(rules.mql_threshold),
        objective="revenue",
        constraints={"reps": 4, "sla_hours": 8.0, "sla_clock": "business", "sla_target": 0.9},
        expected={"mqls_per_month": Estimate(120.0, 100.0, 140.0, 90.0, 150.0)},
        seed=3,
        data_fingerprint="sha256:" + "0" * 64,
    )
    data = json.loads(rec.to_json())
    for path, value in changes.items():
        keys = path.split("/")
        node = data
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return data


CONFIG_CONSISTENCY = {
    "threshold contradicts the rules": (
        {"threshold": 999.0},
        r"key 'threshold' \(999\.0\) contradicts the rules' mql_threshold",
    ),
    "a number beyond a float (1e400)": (
        {"expected/mqls_per_month/value": "1e400"},
        r"key 'expected/mqls_per_month/value' must be a finite number, got inf",
    ),
    "an interval low above high": (
        {"expected/mqls_per_month/low": 200.0},
        r"key 'expected/mqls_per_month': its interval is not ordered \(low 200 > high 140\)",
    ),
    "a year range not ordered": (
        {"expected/mqls_per_month/year_low": 300.0},
        r"key 'expected/mqls_per_month': its interval is not ordered \(year_low 300 > year_high 150\)",
    ),
    "a target without an objective that has one": (
        {"constraints/target": 100.0},
        r"key 'constraints/target' goes with the objectives \('volume', 'pipeline'\), not 'revenue'",
    ),
    "an unknown objective": ({"objective": "happiness"}, r"key 'objective' must be one of"),
    "a team beyond the bound": ({"constraints/reps": 10**6}, r"key 'constraints/reps' must be at most 1,000"),
}


@pytest.mark.parametrize("case", list(CONFIG_CONSISTENCY))
def test_an_inconsistent_config_is_refused_on_read(tmp_path, case):
    changes, match = CONFIG_CONSISTENCY[case]
    path = tmp_path / "config.json"
    text = json.dumps(_config_data(**{k: v for k, v in changes.items() if v != "1e400"}))
    if "1e400" in changes.values():
        text = text.replace('"value": 120.0', '"value": 1e400')
    path.write_text(text)
    with pytest.raises(RecommendationError, match=rf"^{re.escape(str(path))}: {match}"):
        Recommendation.from_json(path)


def test_an_inconsistent_config_is_refused_on_write(tmp_path):
    rec = Recommendation.from_json(json.dumps(_config_data()))
    bad = dataclasses.replace(rec, constraints={**rec.constraints, "sla_hours": float("inf")})
    with pytest.raises(
        RecommendationError, match=r"recommendation: key 'constraints/sla_hours' must be a finite number"
    ):
        bad.to_json(tmp_path / "c.json")
    with pytest.raises(RecommendationError, match=r"key 'threshold' \(12\.0\) contradicts"):
        dataclasses.replace(rec, threshold=12.0).to_json(tmp_path / "c.json")
    assert list(tmp_path.iterdir()) == []


def test_a_config_nested_200000_levels_is_one_error():
    with pytest.raises(RecommendationError, match=r"not valid JSON \(nested too deeply\)"):
        Recommendation.from_json("{" + '"a":{' * 200_000 + "}" * 200_001)


# --- tracebacks from inside: plots, wide fits, CSV index ---------------------------------
def test_a_category_with_dollars_is_drawn_as_text(tmp_path):
    from calibrate.plotting import plot_points

    rules = ScoringRules(fit={"industry": {"$x^$": 5, "US$ 5k": 3}}, mql_threshold=10)
    fig, ax = plt.subplots()
    plot_points(rules.table(), ax=ax)
    fig.savefig(tmp_path / "p.png")  # mathtext would raise a ParseException here
    shown = [t.get_text() for t in ax.get_yticklabels()]
    plt.close(fig)
    assert r"industry: \$x^\$" in shown and r"industry: US\$ 5k" in shown  # drawn literally


def test_a_wide_scorecard_fit_is_refused_with_its_memory():
    from calibrate.scorecard import Scorecard

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(2000, 1500)), columns=[f"f{i}" for i in range(1500)])
    with pytest.raises(
        ValueError,
        match=r"Scorecard: the features make [\d,]+ bins and categories \(widest: 'f0'.*needs about [\d.]+ GiB",
    ):
        Scorecard(max_bins=20).fit(X, rng.random(2000) < 0.3)


def test_index_cells_of_string_dtype_are_escaped():
    frame = pd.DataFrame({"x": [1, 2]}, index=pd.Index(["=cmd", "ok"], dtype="str"))
    assert safe_for_spreadsheet(frame).index.tolist() == ["'=cmd", "ok"]
