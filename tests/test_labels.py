"""calibrate.make_labels: the label, censoring, leakage guard, selection bias and exploration."""

import dataclasses
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import simulate
from calibrate import LeakageError, Scorecard, SelectionBiasWarning, load_history, make_labels
from calibrate._testing import history_with_outcomes
from calibrate.labels import leakage_report
from simulate.table import BEHAVIOUR_COLUMNS, LeadTableError

T = pd.Timestamp
pytestmark = pytest.mark.filterwarnings("ignore::calibrate.SelectionBiasWarning")


def small_history():
    """Seven hand-made leads, as-of 2026-06-01 (see each row's comment)."""
    rows = [
        # lead, created,     mql,          first touch,  sql,          customer
        (
            "A",
            "2026-01-01",
            "2026-01-02",
            "2026-01-02",
            "2026-01-10",
            "2026-01-20",
        ),  # won on day 18
        (
            "B",
            "2026-01-01",
            "2026-01-02",
            "2026-01-03",
            "2026-02-01",
            "2026-03-01",
        ),  # won on day 58
        ("C", "2026-01-05", "2026-01-06", "2026-01-07", None, None),  # worked, lost
        ("D", "2026-05-20", "2026-05-21", "2026-05-21", None, None),  # too young for 30 days
        ("E", "2026-01-03", None, None, None, None),  # never worked
        ("F", "2026-01-03", None, "2026-01-04", "2026-01-06", "2026-01-10"),  # explored, won
        ("G", "2026-02-01", "2026-02-02", "2026-02-02", "2026-02-05", None),  # SQL, not won
    ]
    frame = pd.DataFrame(rows, columns=["lead_id", "created_at", "mql_at", "first_touch_at", "sql_at", "customer_at"])
    frame["source"] = ["web", "ads", "web", "ads", "web", "ads", "web"]
    frame["lead_type"] = "new_business"
    frame["page_views"] = [5, 3, 1, 2, 0, 4, 6]
    frame["won"] = [True, True, False, None, None, True, False]
    return load_history(frame, as_of="2026-06-01", max_reject_share=1.0)


def test_label_is_the_target_within_the_horizon_and_young_leads_are_held_out():
    with pytest.warns(SelectionBiasWarning, match=r"outcomes exist for 6 of 7 leads \(85.7%\)"):
        labels = make_labels(small_history(), horizon_days=30, exploration=None)
    assert list(labels.lead_id) == ["A", "B", "C", "F", "G"]
    assert labels.y.tolist() == [True, False, False, True, False]
    assert labels.start_at.tolist() == [
        T("2026-01-02", tz="UTC"),
        T("2026-01-02", tz="UTC"),
        T("2026-01-06", tz="UTC"),
        T("2026-01-04", tz="UTC"),
        T("2026-02-02", tz="UTC"),
    ]
    assert labels.counts.to_dict() == {
        "leads": 7,
        "worked": 6,
        "never_worked": 1,
        "too_young": 1,
        "judged": 5,
        "reached_target": 2,
        "reached_without_date": 0,
        "explored": 0,
    }
    assert list(labels.X.columns) == ["source", "page_views"]


def test_longer_horizon_sql_target_and_final_outcomes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionBiasWarning)
        ninety = make_labels(small_history(), horizon_days=90, exploration=None)
        sql = make_labels(small_history(), horizon_days=30, target="sql", exploration=None)
        final = make_labels(small_history(), horizon_days=None, exploration=None)
    assert dict(zip(ninety.lead_id, ninety.y, strict=False)) == {
        "A": True,
        "B": True,
        "C": False,
        "F": True,
        "G": False,
    }
    assert dict(zip(sql.lead_id, sql.y, strict=False)) == {
        "A": True,
        "B": True,
        "C": False,
        "F": True,
        "G": True,
    }
    assert final.counts["too_young"] == 0 and "D" in list(final.lead_id)


def test_exploration_weights_stand_for_every_below_threshold_lead():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionBiasWarning)
        labels = make_labels(small_history(), horizon_days=30, exploration="auto")
    # F was worked without becoming an MQL: 1 of the 2 leads below the threshold
    assert labels.exploration_share == pytest.approx(0.5)
    assert dict(zip(labels.lead_id, labels.sample_weight, strict=False)) == {
        "A": 1,
        "B": 1,
        "C": 1,
        "F": 2,
        "G": 1,
    }
    assert labels.counts["explored"] == 1
    chosen = make_labels(
        small_history(),
        horizon_days=30,
        exploration=np.array([0, 0, 0, 0, 0, 1, 0], bool),
        exploration_share=0.25,
    )
    assert chosen.sample_weight[list(chosen.lead_id).index("F")] == 4


@pytest.fixture(scope="module")
def world():
    """A year of 6,000 leads a month, truth intercept -6 (about 8% win overall)."""
    s = simulate.Scenario()
    s = s.replace(
        arrivals=dataclasses.replace(s.arrivals, leads_per_month=6000),
        truth=dataclasses.replace(s.truth, intercept=-6.0),
    )
    return simulate.run(s, seed=21)


def test_selection_bias_is_warned_with_numbers(world):
    history = history_with_outcomes(world, rng=1, outcomes="truth")
    n, worked = len(world.leads), int(world.leads["mql_at"].notna().sum())
    with pytest.warns(
        SelectionBiasWarning,
        match=rf"outcomes exist for {worked:,} of {n:,} leads \(.*%\), the ones "
        rf"sales worked; {n - worked:,} leads were never worked \(median old "
        r"score \d+ for the worked leads, \d+ for the others\)",
    ):
        make_labels(history)


def test_an_exploration_sample_corrects_the_selection(world):
    """Sales worked the MQLs plus a 20% random sample of the others (touched at once).

    Without the weights the labelled leads win several times as often as the population;
    weighted, their win rate estimates the population's (within 3 standard errors of the
    weighted mean plus the population's own), and the weighted fit is calibrated below the
    old threshold on a fresh draw of every below-threshold lead's outcome: within 3 relative
    standard errors ``1 / sqrt(k)`` of the ``k`` explored wins it learnt that level from."""
    history = history_with_outcomes(world, rng=2, exploration_share=0.2, outcomes="truth")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SelectionBiasWarning)  # enough explored leads: no warning
        labels = make_labels(history, exploration="auto")
    everyone = make_labels(history_with_outcomes(world, rng=3, worked="all", outcomes="truth"))
    population = everyone.y.mean()
    w, y = labels.sample_weight, labels.y
    weighted = np.sum(w * y) / np.sum(w)
    se = math.sqrt(np.sum(w**2 * (y - weighted) ** 2)) / np.sum(w)
    assert abs(weighted - population) < 3 * se + 3 * math.sqrt(population * (1 - population) / len(everyone))
    assert y.mean() > 2 * population
    card = Scorecard().fit(labels.X, labels.y, sample_weight=labels.sample_weight)
    below = ~np.isin(everyone.lead_id, world.leads.loc[world.leads["mql_at"].notna(), "lead_id"])
    p = card.predict_proba(everyone.X[below])[:, 1]
    observed = everyone.y[below].mean()
    k = int((labels.y & labels.explored).sum())
    assert k > 100
    assert abs(p.mean() - observed) < 3 * observed / math.sqrt(k)


def test_the_funnels_own_outcomes_label_too(world):
    history = history_with_outcomes(world, rng=1)  # the run's outcomes when its funnel fills them
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionBiasWarning)
        labels = make_labels(history)
    assert labels.counts["judged"] > 0 and labels.counts["too_young"] > 0
    assert labels.counts["judged"] + labels.counts["too_young"] == labels.counts["worked"]
    assert set(labels.X.columns) >= set(BEHAVIOUR_COLUMNS)


def test_counts_can_be_recounted_at_the_clock_start(world):
    history = history_with_outcomes(world, rng=1, outcomes="truth")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionBiasWarning)
        plain = make_labels(history)
        recounted = make_labels(history, events=world.events)
    assert (recounted.X[list(BEHAVIOUR_COLUMNS)] <= plain.X[list(BEHAVIOUR_COLUMNS)]).all().all()
    assert (recounted.X["page_views"] < plain.X["page_views"]).any()
    # a slow reference: count one lead's events by hand
    i = int(np.argmax(plain.X["page_views"].to_numpy() - recounted.X["page_views"].to_numpy()))
    ev = world.events[(world.events["lead_id"] == plain.lead_id[i]) & (world.events["at"] <= plain.start_at[i])]
    assert recounted.X["demo_requests"].iloc[i] == int((ev["kind"] == "demo_request").sum())
    assert recounted.X["page_views"].iloc[i] == int((ev["kind"] == "page_view").sum())


def test_events_are_checked_against_the_history_leads():
    """make_labels(events=...) is a boundary: the events are validated against the leads; those
    of a lead load_history rejected leave with it."""
    rows = [
        ("A", "2026-01-01", "2026-01-02", "2026-01-20", True),
        ("B", "2026-01-01", "2026-01-02", None, False),
        ("C", "2026-01-05", "2026-01-06", None, False),
        ("H", "2026-01-09", "2026-01-08", None, False),  # rejected: an MQL before its creation
    ]
    frame = pd.DataFrame(rows, columns=["lead_id", "created_at", "mql_at", "customer_at", "won"])
    frame = frame.assign(source=["web", "ads", "web", "ads"], lead_type="new_business", page_views=[5, 0, 2, 1])
    history = load_history(frame, as_of="2026-06-01", max_reject_share=1.0)
    assert history.rejects["lead_id"].tolist() == ["H"]
    at = pd.to_datetime(["2026-01-01 12:00", "2026-01-09 12:00", "2026-01-03 08:00"], utc=True)
    events = pd.DataFrame({"lead_id": ["A", "H", "B"], "at": at, "kind": ["page_view", "page_view", "webinar"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionBiasWarning)
        labels = make_labels(history, horizon_days=30, events=events)
        assert labels.X.loc[list(labels.lead_id).index("A"), "page_views"] == 1
        unknown = events.assign(lead_id=["A", "Z", "B"])
        with pytest.raises(
            LeadTableError,
            match=r"^events: column 'lead_id' holds 'Z' in row 1, which is not a lead of the lead table$",
        ):
            make_labels(history, horizon_days=30, events=unknown)
        early = events.assign(at=at - pd.Timedelta(days=1))
        with pytest.raises(
            LeadTableError, match=r"column 'at' is earlier than the lead's created_at in row 0 \(lead_id 'A'\)"
        ):
            make_labels(history, horizon_days=30, events=early)
        with pytest.raises(LeadTableError, match=r"column 'kind' must hold one of .*, got 'call' in row 2"):
            make_labels(history, horizon_days=30, events=events.assign(kind=["page_view", "page_view", "call"]))


# --- the leakage guard ----------------------------------------------------------------------
def leaky_history():
    rng = np.random.default_rng(0)
    n = 600
    created = T("2026-01-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 60, n), unit="D")
    mql = created + pd.Timedelta(hours=5)
    worked = rng.random(n) < 0.6
    won = worked & (rng.random(n) < 0.25)
    frame = pd.DataFrame(
        {
            "lead_id": np.arange(n),
            "created_at": created.astype(str),
            "mql_at": pd.Series(mql.astype(str)).where(worked, None),
            "customer_at": pd.Series((mql + pd.Timedelta(days=9)).astype(str)).where(won, None),
            "won": np.where(worked, won, None),
            "source": rng.choice(["web", "ads"], n),
            "lead_type": "new_business",
            "Tags": np.where(worked, rng.choice(["Ringing", "Will revert"], n), None),
            "Lead Quality": rng.choice(["High", "Low"], n),
            "Notes": np.where(worked, "spoke", None),
            "Visitor segment": np.where(won & (rng.random(n) < 0.6), "enterprise buyer", rng.choice(["smb", "mid"], n)),
            "Webinar topic": rng.choice(["pricing", "onboarding", "api"], n),
        }
    )
    return load_history(frame, as_of="2026-06-01")


def test_leakage_guard_refuses_sales_side_columns_with_the_reason():
    history = leaky_history()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionBiasWarning)
        with pytest.raises(
            LeakageError,
            match=r"refusing feature 'customer_at': 'customer_at' is set when the deal is "
            r"won \(it is the outcome\), so it leaks the outcome\. Pass "
            r"allow=\['customer_at'\]",
        ):
            make_labels(history, features=["source", "customer_at"])
        with pytest.raises(LeakageError, match=r"refusing feature 'Tags': 'Tags': tags are written by sales reps"):
            make_labels(history, features=["Tags"])
        with pytest.raises(LeakageError, match=r"'Lead Quality': a rating of the lead is a rep's judgement"):
            make_labels(history, features=["Lead Quality"])
        with pytest.raises(
            LeakageError,
            match=r"'Notes' is filled for 100% of the leads sales worked and "
            r"0.0% of the others",
        ):
            make_labels(history, features=["Notes"])
        with pytest.raises(
            LeakageError,
            match=r"'Visitor segment': value 'enterprise buyer' \(\d+ leads\) won 100.0% of "
            r"the time against a base rate of",
        ):
            make_labels(history, features=["Visitor segment"])
        labels = make_labels(history)
        allowed = make_labels(history, allow=["Tags"])
    assert list(labels.X.columns) == ["source", "Webinar topic"]
    assert set(labels.refused["column"]) >= {
        "Tags",
        "Lead Quality",
        "Notes",
        "Visitor segment",
        "customer_at",
        "won",
        "mql_at",
    }
    assert "Tags" in allowed.X.columns


def test_leakage_report_screens_a_table():
    report = leakage_report(
        pd.DataFrame(
            {
                "Lead Status": ["a"],
                "Last Notable Activity": ["SMS Sent"],
                "Deal amount": [1.0],
                "page_views": [3],
                "industry": ["x"],
            }
        )
    )
    assert report["column"].tolist() == ["Lead Status", "Last Notable Activity", "Deal amount"]
    assert report["rule"].tolist() == ["name"] * 3
    assert "includes sales' own touches" in report["reason"].iloc[1]


def test_bad_arguments_are_named():
    history = small_history()
    with pytest.raises(ValueError, match=r"target must be 'won' or 'sql', got 'revenue'"):
        make_labels(history, target="revenue")
    with pytest.raises(ValueError, match=r"horizon_days must be > 0 or None, got -3"):
        make_labels(history, horizon_days=-3)
    with pytest.raises(KeyError, match=r"feature column 'nope' is not in the lead table"):
        make_labels(history, features=["nope"], exploration=None)
    with pytest.raises(ValueError, match=r"exploration_share must be in \(0, 1\], got 2"):
        make_labels(history, exploration_share=2)
    with pytest.raises(ValueError, match=r"split_by_time: the history has no dates to split on"):
        make_labels(history, exploration=None).subset(np.array([1, 0, 0, 0, 0], bool)).split_by_time()
