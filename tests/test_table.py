"""simulate.table: the lead table's lifecycle order and the events table, checked at the boundaries."""

import numpy as np
import pandas as pd
import pytest

import simulate
from simulate.io import write_run
from simulate.table import EVENT_KINDS, LIFECYCLE_ORDER, LeadTableError, validate_events, validate_leads

T = pd.Timestamp


def leads_table(**times) -> pd.DataFrame:
    """Three leads created on 2026-01-05, 06 and 07 at 09:00 UTC, with the given stage times."""
    frame = pd.DataFrame(
        {
            "lead_id": [11, 12, 13],
            "created_at": pd.to_datetime(["2026-01-05 09:00", "2026-01-06 09:00", "2026-01-07 09:00"], utc=True),
            "source": ["web", "ads", "web"],
            "lead_type": "new_business",
        }
    )
    for column, values in times.items():
        frame[column] = pd.to_datetime(values, utc=True, format="ISO8601")
    return frame


# --- the lifecycle order: every pair of stages a lead reached ---------------------------------
def test_a_later_stage_before_an_earlier_one_is_refused_even_with_the_stage_between_missing():
    leads = leads_table(
        mql_at=["2026-01-06 10:00", None, None],
        sal_at=[None, None, None],
        sql_at=["2026-01-06 08:00", None, None],
    )
    with pytest.raises(
        LeadTableError,
        match=r"^lead table: column 'sql_at' is earlier than 'mql_at' in row 0 \(lead_id 11\): "
        r"sql_at 2026-01-06 08:00:00\+00:00, mql_at 2026-01-06 10:00:00\+00:00$",
    ):
        validate_leads(leads)


def test_the_order_is_checked_across_every_stage_between():
    leads = leads_table(customer_at=[None, None, "2026-01-03 12:00"], mql_at=[None, None, None])
    with pytest.raises(
        LeadTableError,
        match=r"leads.csv: column 'customer_at' is earlier than 'created_at' in row 2 \(lead_id 13\): "
        r"customer_at 2026-01-03 12:00:00\+00:00, created_at 2026-01-07 09:00:00\+00:00",
    ):
        validate_leads(leads, name="leads.csv")


def test_the_first_bad_row_is_named_and_its_nearest_earlier_stage():
    """Row 1 breaks two pairs (SQL before MQL and before creation): the nearest stage is named."""
    leads = leads_table(
        mql_at=["2026-01-05 10:00", "2026-01-06 12:00", "2026-01-07 08:00"],
        sql_at=[None, "2026-01-06 08:00", None],
    )
    with pytest.raises(LeadTableError, match=r"column 'sql_at' is earlier than 'mql_at' in row 1 \(lead_id 12\)"):
        validate_leads(leads)


def test_equal_and_missing_times_are_in_order():
    leads = leads_table(
        mql_at=["2026-01-05 09:00", None, "2026-01-08"],
        sal_at=["2026-01-05 09:00", "2026-01-06 10:00", None],
        sql_at=[None, None, None],
        customer_at=["2026-01-05 09:00", None, "2026-02-01"],
    )
    assert validate_leads(leads) is leads


def _slow_first_backwards(leads: pd.DataFrame):
    """The first (row, earlier, later) out of order, cell by cell: the obviously right reference."""
    present = [c for c in LIFECYCLE_ORDER if c in leads.columns]
    for r in range(len(leads)):
        for j, later in enumerate(present):
            for earlier in reversed(present[:j]):
                a, b = leads[earlier].iloc[r], leads[later].iloc[r]
                if not pd.isna(a) and not pd.isna(b) and b < a:
                    return r, earlier, later
    return None


def _random_leads(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Leads whose stages mostly follow each other (a fifth at the same moment as the stage
    before), some stages missing, a few cells moved back by up to 20 days."""
    created = T("2026-01-01", tz="UTC") + pd.to_timedelta(rng.uniform(0, 90, n), unit="D")
    frame = pd.DataFrame({"lead_id": np.arange(n) + 1, "created_at": created, "source": "web", "lead_type": "x"})
    t = created
    for column in LIFECYCLE_ORDER[1:]:
        if rng.random() < 0.15:
            continue  # the export has no such column
        t = t + pd.to_timedelta(rng.exponential(3.0, n) * (rng.random(n) > 0.2), unit="D")
        back = pd.to_timedelta(np.where(rng.random(n) < 0.02, rng.uniform(0, 20, n), 0.0), unit="D")
        frame[column] = pd.Series(t - back).where(rng.random(n) < rng.uniform(0.2, 1.0))
    return frame


@pytest.mark.parametrize("seed", range(60))
def test_the_vectorised_order_check_agrees_with_a_slow_loop(seed):
    rng = np.random.default_rng(seed)
    leads = _random_leads(rng, int(rng.integers(1, 40)))
    expected = _slow_first_backwards(leads)
    if expected is None:
        assert validate_leads(leads) is leads
        return
    row, earlier, later = expected
    with pytest.raises(LeadTableError) as caught:
        validate_leads(leads)
    assert str(caught.value).startswith(
        f"lead table: column {later!r} is earlier than {earlier!r} in row {row} (lead_id {row + 1}): "
        f"{later} {leads[later].iloc[row]}, {earlier} {leads[earlier].iloc[row]}"
    )


def test_the_random_tables_hold_both_cases():
    """The property test above sees tables in order and tables out of order."""
    outcomes = {_slow_first_backwards(_random_leads(np.random.default_rng(s), 30)) is None for s in range(60)}
    assert outcomes == {True, False}


# --- the events table ---------------------------------------------------------------------
def events_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": [11, 12, 11],
            "at": pd.to_datetime(["2026-01-05 09:30", "2026-01-06 09:00", "2026-01-09 00:00"], utc=True),
            "kind": ["page_view", "demo_request", "webinar"],
        }
    )


def test_valid_events_are_returned_as_they_are():
    events = events_table()
    assert validate_events(events) is events
    assert validate_events(events, leads=leads_table()) is events
    events["kind"] = pd.Categorical(events["kind"], categories=EVENT_KINDS)  # as simulate.run writes them
    events["channel"] = "extra columns are not checked"
    assert validate_events(events, leads=leads_table()) is events


@pytest.mark.parametrize("column", ["lead_id", "at", "kind"])
def test_a_missing_column(column):
    with pytest.raises(LeadTableError, match=rf"^events: required column '{column}' is missing$"):
        validate_events(events_table().drop(columns=column))


@pytest.mark.parametrize("column", ["lead_id", "at", "kind"])
def test_a_missing_value(column):
    events = events_table()
    events[column] = events[column].astype(object)
    events.loc[2, column] = None
    with pytest.raises(LeadTableError, match=rf"^run events: column '{column}' is empty in row 2$"):
        validate_events(events, name="run events")


def test_times_must_be_timezone_aware_timestamps():
    events = events_table()
    events["at"] = events["at"].dt.tz_localize(None)
    with pytest.raises(LeadTableError, match=r"column 'at' must hold timezone-aware timestamps, got dtype datetime64"):
        validate_events(events)
    events["at"] = events["at"].astype(str)
    with pytest.raises(
        LeadTableError, match=r"column 'at' must hold timezone-aware timestamps, got dtype (object|str)"
    ):
        validate_events(events)


def test_an_unknown_kind():
    events = events_table()
    events.loc[1, "kind"] = "phone_call"
    with pytest.raises(
        LeadTableError,
        match=r"^events: column 'kind' must hold one of page_view, .*, demo_request, got 'phone_call' in row 1$",
    ):
        validate_events(events)
    events["kind"] = pd.Categorical(events["kind"])
    with pytest.raises(LeadTableError, match=r"got 'phone_call' in row 1$"):
        validate_events(events)


def test_an_event_of_a_lead_the_table_does_not_have():
    events = events_table()
    events.loc[2, "lead_id"] = 99
    with pytest.raises(
        LeadTableError, match=r"^events: column 'lead_id' holds 99 in row 2, which is not a lead of the lead table$"
    ):
        validate_events(events, leads=leads_table())
    assert validate_events(events) is events  # without the leads, any id will do
    text_ids = events_table().astype({"lead_id": str})
    with pytest.raises(LeadTableError, match=r"column 'lead_id' holds '11' in row 0, which is not a lead"):
        validate_events(text_ids, leads=leads_table())  # ids are compared as they are, not as text


def test_an_event_before_its_lead_was_created():
    events = events_table()
    events.loc[1, "at"] = T("2026-01-06 08:59", tz="UTC")
    with pytest.raises(
        LeadTableError,
        match=r"^events: column 'at' is earlier than the lead's created_at in row 1 \(lead_id 12\): "
        r"at 2026-01-06 08:59:00\+00:00, created_at 2026-01-06 09:00:00\+00:00$",
    ):
        validate_events(events, leads=leads_table())
    events.loc[1, "at"] = T("2026-01-06 10:59", tz="Europe/Berlin")  # the same moment as 09:59 UTC
    assert validate_events(events, leads=leads_table()) is events


def test_leads_that_cannot_be_matched():
    leads = leads_table()
    leads.loc[2, "lead_id"] = 11
    with pytest.raises(LeadTableError, match=r"the lead table's column 'lead_id' repeats 11 in row 2"):
        validate_events(events_table(), leads=leads)
    with pytest.raises(LeadTableError, match=r"the lead table has no column 'created_at'"):
        validate_events(events_table(), leads=leads_table().drop(columns="created_at"))


# --- the boundaries -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_run():
    scenario = simulate.Scenario(months=1).replace(arrivals=simulate.Arrivals(leads_per_month=200.0, campaigns=()))
    return simulate.run(scenario, seed=3)


def test_a_run_is_valid_and_its_events_belong_to_its_leads(small_run):
    validate_leads(small_run.leads)
    validate_events(small_run.events, leads=small_run.leads)


def test_write_run_refuses_a_broken_table_and_writes_nothing(tmp_path, small_run):
    import dataclasses

    events = small_run.events.copy()
    events.loc[0, "at"] = small_run.leads["created_at"].min() - pd.Timedelta(days=1)
    broken = dataclasses.replace(small_run, events=events)
    with pytest.raises(
        LeadTableError, match=r"^events.csv: column 'at' is earlier than the lead's created_at in row 0"
    ):
        write_run(broken, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    assert len(write_run(broken, tmp_path / "run", events=False)) == 3  # leads.csv, summary.csv, scenario.toml
    leads = small_run.leads.copy()
    row = int(np.flatnonzero(leads["mql_at"].notna())[0])
    leads.loc[row, "created_at"] = leads.loc[row, "mql_at"] + pd.Timedelta(minutes=1)
    with pytest.raises(LeadTableError, match=rf"^leads.csv: column 'mql_at' is earlier than 'created_at' in row {row}"):
        write_run(dataclasses.replace(small_run, leads=leads), tmp_path / "other")
    assert not (tmp_path / "other").exists()
