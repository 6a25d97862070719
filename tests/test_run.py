"""simulate.run: the lead table contract, determinism, and the command line."""

import numpy as np
import pandas as pd
import pytest

import simulate
from simulate.__main__ import main
from simulate.table import BEHAVIOUR_COLUMNS, LEAD_COLUMNS, LeadTableError, validate_leads


@pytest.fixture(scope="module")
def result(small_scenario):
    return simulate.run(small_scenario, seed=11)


def test_lead_table_has_every_documented_column(result):
    assert list(result.leads.columns) == list(LEAD_COLUMNS)
    assert result.leads["lead_id"].is_unique
    assert result.leads["created_at"].is_monotonic_increasing
    assert set(simulate.describe_columns()["column"]) == set(LEAD_COLUMNS)


def test_counts_summarise_the_events(result):
    counts = pd.crosstab(result.events["lead_id"], result.events["kind"].astype(str))
    counts = counts.reindex(index=result.leads["lead_id"], fill_value=0)
    for column in BEHAVIOUR_COLUMNS:
        expected = counts[column[:-1]].to_numpy() if column[:-1] in counts else 0
        np.testing.assert_array_equal(result.leads[column].to_numpy(), expected)
    assert (result.events["at"] < result.as_of).all()


def test_mql_moment_is_creation_or_an_event(result):
    leads = result.leads.set_index("lead_id")
    mql = leads["mql_at"].dropna()
    at_creation = mql == leads.loc[mql.index, "created_at"]
    event_moments = set(zip(result.events["lead_id"], result.events["at"]))
    for lead_id, t in mql[~at_creation].items():
        assert (lead_id, t) in event_moments


def test_same_seed_same_bits_other_seed_other_world(small_scenario, result):
    again = simulate.run(small_scenario, seed=11)
    pd.testing.assert_frame_equal(result.leads, again.leads)
    pd.testing.assert_frame_equal(result.events, again.events)
    pd.testing.assert_frame_equal(result.truth, again.truth)
    pd.testing.assert_frame_equal(result.summary, again.summary)
    other = simulate.run(small_scenario, seed=12)
    assert len(other.leads) != len(result.leads) or not other.leads["created_at"].equals(result.leads["created_at"])


def test_summary_counts_agree_with_the_table(result):
    s = result.summary
    assert s["leads"].sum() == len(result.leads)
    assert s["mqls"].sum() == result.leads["mql_at"].notna().sum()
    assert ((s["mql_share"] >= 0) & (s["mql_share"] <= 1)).all()


def test_validate_leads_names_column_and_row(result):
    leads = result.leads.copy()
    with pytest.raises(LeadTableError, match=r"required column 'created_at' is missing"):
        validate_leads(leads.drop(columns="created_at"))
    dup = leads.copy()
    dup.loc[3, "lead_id"] = dup.loc[1, "lead_id"]
    with pytest.raises(LeadTableError, match=r"column 'lead_id' repeats 2 in row 3"):
        validate_leads(dup)
    neg = leads.copy()
    neg.loc[5, "page_views"] = -1
    with pytest.raises(LeadTableError, match=r"column 'page_views' must hold whole counts >= 0, got -1\.0 in row 5"):
        validate_leads(neg)
    back = leads.copy()
    row = int(np.flatnonzero(back["mql_at"].notna())[0])
    back.loc[row, "mql_at"] = back.loc[row, "created_at"] - pd.Timedelta(hours=1)
    with pytest.raises(LeadTableError, match=rf"column 'mql_at' is earlier than 'created_at' in row {row}"):
        validate_leads(back)
    naive = leads.copy()
    naive["created_at"] = naive["created_at"].dt.tz_localize(None)
    with pytest.raises(LeadTableError, match=r"'created_at' must hold timezone-aware timestamps"):
        validate_leads(naive)


def test_command_line_writes_the_history(tmp_path, capsys):
    scenario = tmp_path / "s.toml"
    simulate.Scenario(months=1).to_toml(scenario)
    out = tmp_path / "out"
    assert main(["run", "--scenario", str(scenario), "--seed", "3", "--out", str(out)]) == 0
    leads = pd.read_csv(out / "leads.csv")
    assert list(leads.columns) == list(LEAD_COLUMNS)
    expected = simulate.run(simulate.Scenario(months=1), seed=3).leads
    assert len(leads) == len(expected)
    assert (leads["score"].to_numpy() == expected["score"].to_numpy()).all()
    assert simulate.Scenario.from_toml(out / "scenario.toml") == simulate.Scenario(months=1)
    assert "wrote" in capsys.readouterr().out


def test_command_line_reports_bad_scenario(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[arrivals]\nleads_per_month = -3\n")
    assert main(["run", "--scenario", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "leads_per_month must be >= 0" in err and str(bad) in err
    assert not (tmp_path / "o").exists()
    assert main(["run", "--scenario", str(tmp_path / "missing.toml"), "--out", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
