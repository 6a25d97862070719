"""Scenarios: defaults, TOML round trips, and bad scenarios refused with the key named."""

import dataclasses

import pytest

import simulate
from simulate import Scenario
from simulate.spec import SpecError


def test_default_is_documented_world():
    s = Scenario()
    assert s.months == 12 and s.arrivals.leads_per_month == 3000
    assert s.days == 365 and str(s.end_date) == "2027-01-01"


def test_toml_round_trip_is_exact(tmp_path):
    s = Scenario()
    path = tmp_path / "s.toml"
    s.to_toml(path)
    assert Scenario.from_toml(path) == s
    # a what-if with every kind of field changed survives too
    changed = s.replace(
        months=3,
        timezone="Europe/Berlin",
        arrivals=dataclasses.replace(s.arrivals, leads_per_month=4321.5, campaigns=()),
        truth=dataclasses.replace(s.truth, noise_sd=0.0),
        rules=dataclasses.replace(
            s.rules,
            decay_half_life_days=None,
            grades=simulate.rules.Grades(fit_edges=(10.0, 30.0), engagement_thresholds=(1e9, 40.0, 20.0)),
        ),
    )
    assert Scenario.from_toml(changed.to_toml()) == changed


def test_partial_toml_keeps_defaults(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('name = "busy"\n[arrivals]\nleads_per_month = 5000\n')
    s = Scenario.from_toml(path)
    assert s.arrivals.leads_per_month == 5000.0
    assert s.arrivals.campaigns == Scenario().arrivals.campaigns
    assert s.rules == Scenario().rules


@pytest.mark.parametrize(
    ("toml", "match"),
    [
        ("colour = 3\n", r"colour: unknown key"),
        ("[arrivals]\nleads_per_mnth = 3\n", r"arrivals\.leads_per_mnth: unknown key"),
        ("[arrivals]\nleads_per_month = -5\n", r"Arrivals\.leads_per_month must be >= 0, got -5"),
        ('[arrivals]\nleads_per_month = "many"\n', r"arrivals\.leads_per_month: expected a number"),
        ("[arrivals]\nweekday_profile = [1, 1]\n", r"Arrivals\.weekday_profile must have 7 values"),
        ("[population.sources]\nweb = 0.5\nemail = 0.4\n", r"Population\.sources shares must add up to 1, got 0\.9"),
        (
            "[population]\nexisting_customer_share = 1.5\n",
            r"existing_customer_share must be a probability in \[0, 1\], got 1\.5",
        ),
        (
            "[population.bad_data_share]\nbusiness = 0.1\npersonal = 0.1\ndisposable = -0.1\n",
            r"bad_data_share\.disposable must be a probability",
        ),
        ("months = 0\n", r"Scenario\.months must be in \[1, 120\]"),
        ('start = "2026-13-01"\n', r"Scenario\.start must be an ISO date"),
        ('timezone = "Mars/Olympus"\n', r"time zone"),
        (
            '[[arrivals.campaigns]]\nname = "x"\nstart = "2026-02-01"\nsource = "radio"\n',
            r"source 'radio' is not in Population\.sources",
        ),
        (
            "[truth.weights.job_level]\nastronaut = 1.0\n",
            r"Truth\.weights\.job_level\.astronaut is not a value of job_level",
        ),
        (
            "[truth.stage_exponents]\nconnect = 0.5\nfit = 0.5\nbant = 0.5\nopportunity = 0\nwon = 0\n",
            r"stage_exponents must add up to 1",
        ),
        (
            "[behaviour.rates]\npage_view = [0.1, 0.1, 0.1]\n",
            r"Behaviour\.rates must give rates for exactly the event kinds",
        ),
        ("[rules.fit.shoe_size]\nbig = 5\n", r"criterion 'shoe_size' is not a lead-table column"),
        ("[rules.engagement.page_views]\nedges = [1, 2]\npoints = [0, 5]\n", r"Bins\.points must have one more value"),
        ('format = "leadfunnel.scenario/9"\n', r"format 'leadfunnel\.scenario/9'"),
        ("months = [\n", r"not valid TOML"),
    ],
)
def test_bad_scenarios_are_refused_naming_the_key(tmp_path, toml, match):
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(SpecError, match=match) as info:
        Scenario.from_toml(path)
    assert str(path) in str(info.value)


def test_bad_values_refused_in_python_too():
    with pytest.raises(ValueError, match=r"Arrivals\.leads_per_month must be >= 0"):
        simulate.Arrivals(leads_per_month=-1)
    with pytest.raises(ValueError, match=r"Categorical\.shares\.a must be in \[0, 1\]"):
        simulate.scenario.Categorical(shares={"a": 1.2, "b": -0.2})
    with pytest.raises(ValueError, match=r"Campaign 'x' start must be an ISO date"):
        simulate.Campaign(name="x", start="soon")


def test_missing_scenario_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"scenario file .*nope\.toml does not exist"):
        Scenario.from_toml(tmp_path / "nope.toml")
