"""Real CRM exports (issue 14): several tables, a mapping file, blanks that stay missing, shapes.

The exports are small ones made here, shaped like HubSpot's (contacts, deals with
"Associated Contact IDs", activities) and Salesforce's (leads with ``ConvertedOpportunityId``,
opportunities, tasks by ``WhoId``); the expected values are worked out by hand in each test.
"""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import simulate
from calibrate import HistoryError, Scorecard, load_history, make_labels
from calibrate.capacity import SalesCapacity
from calibrate.labels import LeakageError
from calibrate.leakage import _separation, leakage_report
from calibrate.mappings import ColumnMapping
from calibrate.rejects import summarise_rejects
from calibrate.shape import ShapeError, history_shape, threshold_floor
from calibrate.threshold import choose, recommend


def ts(text):
    return pd.Timestamp(text, tz="UTC")


# --- HubSpot: contacts, deals, activities ----------------------------------------------------
CONTACTS = pd.DataFrame(
    {
        "Record ID": [101, 102, 103, 104],
        "Create Date": ["2025-01-05 09:00", "2025-01-06 10:00", "2025-01-07 11:00", "2025-02-01 08:00"],
        "Original Source": ["Organic Search", "Paid Search", "Direct Traffic", ""],
        "Industry": ["Software", "", "Retail", None],
        "Became a Marketing Qualified Lead Date": ["2025-01-06 09:00", "2025-01-07 10:00", "", "2025-02-02 08:00"],
    }
)
DEALS = pd.DataFrame(
    {
        "Record ID": [9001, 9002, 9003, 9004, 9005],
        "Deal Name": ["a", "b", "c", "d", "e"],
        "Create Date": ["2025-01-10 09:00", "2025-01-12 10:00", "2025-01-20 10:00", "2024-06-01 10:00", "2025-03-01"],
        "Close Date": ["2025-02-10 12:00", "2025-02-12 12:00", "", "2024-07-01", "2025-03-05"],
        "Deal Stage": ["closedwon", "Closed Lost", "Appointment Scheduled", "closedwon", "closedwon"],
        "Amount": ["12,000", "5000", "", "3000", "100"],
        "Associated Contact IDs": ["101", "102;101", "102", "104", "999"],
    }
)
ACTIVITIES = pd.DataFrame(
    {
        "Activity date": ["2025-01-06 12:00", "2025-01-06 10:00", "2025-01-08 09:00", "2025-01-07 09:00"],
        "Activity type": ["CALL", "NOTE", "EMAIL", "TASK"],
        "Activity assigned to": ["ann", "bob", "cid", "dan"],
        "Associated Contact IDs": ["101", "101", "102", "102"],
    }
)


def test_hubspot_contacts_deals_and_activities_join_into_one_lead_table(tmp_path):
    for name, frame in (("contacts", CONTACTS), ("deals", DEALS), ("activities", ACTIVITIES)):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    h = load_history(
        tmp_path / "contacts.csv",
        mapping="hubspot",
        deals=tmp_path / "deals.csv",
        activities=tmp_path / "activities.csv",
    )
    leads = h.leads.set_index("lead_id")
    # 101: won deal 9001 (and lost 9002): the earliest deal opens, the win closes
    assert leads.loc[101, "opportunity_at"] == ts("2025-01-10 09:00")
    assert bool(leads.loc[101, "won"]) and leads.loc[101, "customer_at"] == ts("2025-02-10 12:00")
    assert leads.loc[101, "amount"] == 12000 and leads.loc[101, "deal_stage"] == "closed_won"
    # 102: one lost, one open: not won (yet), the open deal's stage
    assert pd.isna(leads.loc[102, "won"]) and pd.isna(leads.loc[102, "customer_at"])
    assert leads.loc[102, "deal_stage"] == "appointment_scheduled"
    # the first touch is the earliest call or e-mail, not the earlier note; the task is no touch
    assert leads.loc[101, "first_touch_at"] == ts("2025-01-06 12:00") and leads.loc[101, "rep_id"] == "ann"
    assert leads.loc[102, "first_touch_at"] == ts("2025-01-08 09:00")
    # 104's only deal is older than the contact: not its outcome
    assert pd.isna(leads.loc[104, "opportunity_at"])
    # every row of every table is used or reported with its table and reason
    other = h.rejects[h.rejects["table"] != "leads"]
    assert sorted(zip(other["table"], other["row"], strict=True)) == [
        ("activities", 1),
        ("activities", 3),
        ("deals", 3),
        ("deals", 4),
    ]
    reasons = dict(zip(zip(other["table"], other["row"], strict=True), other["reason"], strict=True))
    assert reasons["deals", 4] == "no lead has this 'Record ID'"
    assert reasons["deals", 3].startswith("dated before its lead was created")
    assert "no touch" in reasons["activities", 1]
    assert h.tables.set_index("table").loc["deals", "used"] == 3
    assert h.columns["opportunity_at"].endswith("deals.csv: 'Create Date'")
    summary = summarise_rejects(h)
    assert "2 rows of the deals table were not used" in summary and "first rows left out" in summary


def test_the_leads_export_wins_over_a_joined_table():
    contacts = CONTACTS.assign(**{"Became an Opportunity Date": ["2025-01-09 08:00", "", "", ""]})
    h = load_history(contacts, mapping="hubspot", deals=DEALS)
    leads = h.leads.set_index("lead_id")
    assert leads.loc[101, "opportunity_at"] == ts("2025-01-09 08:00")  # its own, not the deal's
    assert leads.loc[102, "opportunity_at"] == ts("2025-01-12 10:00")  # filled from the deal


def test_a_join_whose_keys_never_match_is_one_error():
    deals = DEALS.assign(**{"Associated Contact IDs": ["x1", "x2", "x3", "x4", "x5"]})
    with pytest.raises(HistoryError, match=r"no row of the deals table matches a lead: .*'x1'.*'101'"):
        load_history(CONTACTS, mapping="hubspot", deals=deals)
    with pytest.raises(HistoryError, match=r"the deals table has no key column .*'Associated Contact IDs'"):
        load_history(CONTACTS, mapping="hubspot", deals=DEALS.drop(columns="Associated Contact IDs"))


# --- Salesforce: leads, opportunities, tasks -----------------------------------------------------
def test_salesforce_leads_opportunities_and_tasks_with_15_and_18_character_ids():
    leads = pd.DataFrame(
        {
            "Id": ["00Q5g000001AbcDEAS", "00Q5g000001AbcEEAS", "00Q5g000001AbcFEAS"],
            "CreatedDate": ["2025-01-05T09:00:00.000Z", "2025-01-06T10:00:00.000Z", "2025-01-07T11:00:00.000Z"],
            "LeadSource": ["Web", "Partner", "Web"],
            "MQL_Date__c": ["2025-01-06", "2025-01-07", ""],
            "ConvertedOpportunityId": ["0065g00000XyZaAAAA", "0065g00000XyZbB", ""],
        }
    )
    opps = pd.DataFrame(
        {
            "Id": ["0065g00000XyZaAAAA", "0065g00000XyZbBAAQ"],
            "CreatedDate": ["2025-01-09T10:00:00.000Z", "2025-01-10T10:00:00.000Z"],
            "CloseDate": ["2025-02-01", "2025-02-15"],
            "StageName": ["Closed Won", "Closed Lost"],
            "Amount": [10000, 2000],
            "IsWon": ["true", "false"],
        }
    )
    tasks = pd.DataFrame(
        {
            "WhoId": ["00Q5g000001AbcDEAS", "00Q5g000001AbcE", "00Q5g000001AbcE"],
            "CreatedDate": ["2025-01-06T12:00:00.000Z", "2025-01-08T09:00:00.000Z", "2025-01-07T09:00:00.000Z"],
            "TaskSubtype": ["Call", "Email", "Call"],
            "Status": ["Completed", "Completed", "Not Started"],
            "OwnerId": ["005A", "005B", "005C"],
        }
    )
    h = load_history(leads, mapping="salesforce", deals=opps, activities=tasks)
    got = h.leads.set_index("lead_id")
    a, b = "00Q5g000001AbcDEAS", "00Q5g000001AbcEEAS"
    assert bool(got.loc[a, "won"]) and got.loc[a, "customer_at"] == ts("2025-02-01") and got.loc[a, "amount"] == 10000
    assert got.loc[b, "won"] == False and pd.isna(got.loc[b, "customer_at"])  # noqa: E712
    assert got.loc[b, "closed_at"] == ts("2025-02-15") and got.loc[b, "deal_stage"] == "closed_lost"
    assert (
        got.loc[b, "first_touch_at"] == ts("2025-01-08 09:00") and got.loc[b, "rep_id"] == "005B"
    )  # open task skipped
    assert h.rejects.query("table == 'activities'")["row"].tolist() == [2]


# --- a mapping as a file ---------------------------------------------------------------------------
def test_a_mapping_file_in_toml_and_json_reads_like_the_python_mapping(tmp_path):
    frame = pd.DataFrame(
        {
            "Contact": [1, 2, 3],
            "Created": ["01.02.2025", "02.02.2025", "03.02.2025"],
            "Channel": ["Web", "Ads", "Web"],
            "Won on": ["2025-03-01", "", ""],
            "MQL": ["2025-02-02", "2025-02-03", ""],
        }
    )
    toml = """name = "ours"
timezone = "Europe/Berlin"
[columns]
lead_id = "Contact"
created_at = "Created"
source = "Channel"
customer_at = ["Won date", "Won on"]
mql_at = "MQL"
[date_formats]
created_at = "%d.%m.%Y"
[converters]
source = "snake"
"""
    (tmp_path / "m.toml").write_text(toml)
    spec = {
        "name": "ours",
        "timezone": "Europe/Berlin",
        "columns": {
            "lead_id": "Contact",
            "created_at": "Created",
            "source": "Channel",
            "customer_at": "Won on",
            "mql_at": "MQL",
        },
        "date_formats": {"created_at": "%d.%m.%Y"},
        "converters": {"source": "snake"},
    }
    (tmp_path / "m.json").write_text(json.dumps(spec))
    from_toml = load_history(frame, mapping=tmp_path / "m.toml")
    from_json = load_history(frame, mapping=str(tmp_path / "m.json"))
    pd.testing.assert_frame_equal(from_toml.leads, from_json.leads)
    assert from_toml.leads["created_at"].tolist()[0] == ts("2025-01-31 23:00")  # Berlin midnight
    assert from_toml.leads["customer_at"].notna().sum() == 1
    assert from_toml.columns["customer_at"] == "Won on"


def test_a_mapping_file_that_extends_hubspot_and_bad_mapping_files(tmp_path):
    (tmp_path / "ext.toml").write_text('extends = "hubspot"\n[columns]\nregion = "Land"\n')
    h = load_history(CONTACTS.assign(Land=["DE", "FR", None, "DE"]), mapping=tmp_path / "ext.toml", deals=DEALS)
    assert h.leads["region"].tolist()[:2] == ["DE", "FR"] and h.leads["won"].sum() == 1
    with pytest.raises(
        HistoryError, match=r"key 'region' names column 'Land', which the file lacks \(the file has 'Record ID'"
    ):
        load_history(CONTACTS, mapping=tmp_path / "ext.toml")
    cases = {
        "colums = {}\n": r"bad.toml: colums: unknown key; ColumnMapping takes",
        "[columns]\nlead_idd = 'x'\n": r"bad.toml: ColumnMapping 'custom': 'lead_idd' is not a lead-table column",
        "[columns]\nlead_id = 3\n": r"bad.toml: columns.lead_id: expected a column name \(text\), got 3",
        "extends = 'pipedrive'\n": r"bad.toml: extends: 'pipedrive' is not one of",
        "[deals]\nlead_key = 'x'\n": r"bad.toml: deals: key is missing",
        "columns = [\n": r"bad.toml: not valid TOML",
    }
    for text, match in cases.items():
        (tmp_path / "bad.toml").write_text(text)
        with pytest.raises(HistoryError, match=match):
            load_history(CONTACTS, mapping=tmp_path / "bad.toml")


# --- every mapped column exists; required values; never overwritten ---------------------------------------
def test_a_mapped_column_that_does_not_exist_is_one_error_naming_the_key():
    mapping = ColumnMapping(columns={"lead_id": "Record ID", "created_at": "Create Date", "customer_at": "wondate"})
    frame = CONTACTS.assign(source="web")
    with pytest.raises(
        HistoryError, match=r"mapping 'custom' key 'customer_at' names column 'wondate', which the file lacks"
    ):
        load_history(frame, mapping=mapping)


def test_an_export_column_is_never_overwritten_by_a_default():
    frame = CONTACTS.assign(lead_type=["existing_customer", "new_business", "existing_customer", None])
    h = load_history(frame, mapping="hubspot")
    assert h.leads["lead_type"].tolist()[:3] == ["existing_customer", "new_business", "existing_customer"]
    assert pd.isna(h.leads["lead_type"].iloc[3])  # a blank stays missing, not the default
    # other defaults keep the implicit lead_type default
    m = ColumnMapping(columns={"lead_id": "Record ID", "created_at": "Create Date"}, defaults={"source": "web"})
    assert m.defaults == {"source": "web", "lead_type": "new_business"}
    # mapped elsewhere, the export's own column is kept under another name
    m = ColumnMapping(
        columns={
            "lead_id": "Record ID",
            "created_at": "Create Date",
            "source": "Original Source",
            "lead_type": "Industry",
        }
    )
    h = load_history(frame, mapping=m)
    assert "lead_type (export)" in h.extra_columns


def test_an_empty_required_date_is_a_reject_naming_the_users_column():
    frame = CONTACTS.copy()
    frame.loc[2, "Create Date"] = ""
    h = load_history(frame, mapping="hubspot", max_reject_share=0.5)
    assert h.rejects["row"].tolist() == [2] and h.rejects["reason"].tolist() == [
        "'Create Date' is empty (a required date)"
    ]
    with pytest.raises(HistoryError, match=r"column 'Create Date', row 2: 'Create Date' is empty"):
        load_history(frame, mapping="hubspot", on_error="raise")


def test_a_dataframe_with_a_repeated_index_loads():
    frame = CONTACTS.set_axis([7, 7, 7, 7])
    assert len(load_history(frame, mapping="hubspot").leads) == 4


# --- dates on a clock-change midnight -------------------------------------------------------------------------
@pytest.mark.parametrize("as_text", [True, False])
def test_a_date_is_valid_on_a_day_whose_midnight_a_clock_change_skips(as_text):
    # Sao Paulo sprang forward at 00:00 on 2018-11-04: that midnight never existed
    days = ["2018-11-04", "2018-11-05", "2019-02-17"]
    frame = pd.DataFrame({"lead_id": [1, 2, 3], "created_at": days if as_text else pd.to_datetime(days)})
    frame = frame.assign(source="web", lead_type="new_business")
    h = load_history(frame, mapping=ColumnMapping(columns={c: c for c in frame}, timezone="America/Sao_Paulo"))
    assert h.rejects.empty
    # the day starts at the first moment that exists: 01:00 local (UTC-2)
    assert h.leads["created_at"].tolist() == [ts("2018-11-04 03:00"), ts("2018-11-05 02:00"), ts("2019-02-17 03:00")]
    # a time of day inside the gap is still no time at all
    frame = pd.DataFrame({"lead_id": [1], "created_at": ["2018-11-04 00:30"], "source": "w", "lead_type": "n"})
    with pytest.raises(HistoryError, match=r"does not exist or is ambiguous in time zone America/Sao_Paulo"):
        load_history(frame, mapping=ColumnMapping(columns={c: c for c in frame}, timezone="America/Sao_Paulo"))


# --- missing stays missing -------------------------------------------------------------------------------------
def _scored_frame(n=600, seed=0):
    rng = np.random.default_rng(seed)
    industry = rng.choice(["Software", "Retail", None], n, p=[0.4, 0.3, 0.3])
    p = np.where(industry == "Software", 0.5, np.where(industry == "Retail", 0.2, 0.1))
    won = rng.random(n) < p
    created = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(n) % 100, unit="D")
    return pd.DataFrame(
        {
            "lead_id": np.arange(n),
            "created_at": created.strftime("%Y-%m-%d"),
            "mql_at": created.strftime("%Y-%m-%d"),
            "customer_at": (created + pd.Timedelta(days=10)).strftime("%Y-%m-%d").where(won, None),
            "source": "web",
            "lead_type": "new_business",
            "industry": industry,
        }
    )


@pytest.mark.parametrize("blank", ["", "nan", "NaN", "NULL", "category-dtype NaN", "float NaN"])
def test_a_blank_is_a_missing_value_binned_and_pointed_as_missing(tmp_path, blank):
    frame = _scored_frame()
    if blank == "category-dtype NaN":
        frame["industry"] = frame["industry"].astype("category")
    elif blank != "float NaN":
        frame["industry"] = frame["industry"].fillna(blank)
        frame.to_csv(tmp_path / "x.csv", index=False)
        frame = tmp_path / "x.csv"
    h = load_history(frame)
    assert set(h.leads["industry"].dropna()) == {"Software", "Retail"}
    assert h.leads["industry"].isna().sum() == pytest.approx(180, abs=60)
    labels = make_labels(h, horizon_days=None)
    card = Scorecard(random_state=0).fit(labels.X[["industry"]], labels.y)
    fit = card.to_rules().fit["industry"]
    assert "nan" not in fit and fit["(missing)"] == 0  # explicit, and the reference
    assert fit["Software"] > fit["Retail"] > 0  # win rates 50% > 20% > 10% (missing)
    assert "(missing)" in set(card.table()["value"])


# --- the leakage guard, by evidence -----------------------------------------------------------------------------
def _mql_list_with_deal_columns(n=400, seed=1):
    """An MQL list joined with deals: every row worked; deal-table columns leak."""
    rng = np.random.default_rng(seed)
    won = rng.random(n) < 0.25
    created = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(np.arange(n) % 150, unit="D")
    frame = pd.DataFrame(
        {
            "lead_id": np.arange(n),
            "created_at": created,
            "mql_at": created,
            "customer_at": (created + pd.Timedelta(days=15)).where(won),
            "source": rng.choice(["web", "ads"], n),
            "lead_type": "new_business",
            "Contract Kind": np.where(won | (rng.random(n) < 0.02), "newbusiness", None),  # filled for wins
            "Cycle length": np.where(won, rng.uniform(5, 30, n), rng.uniform(40, 90, n)),  # separates
            "Lead Temperature": rng.choice(["hot", "warm", "cold"], n),  # a rep's rating, by name
            "Employees band": rng.choice(["1-10", "11-50", "51+"], n),  # honest
        }
    )
    return frame, won


def test_the_leakage_guard_refuses_by_evidence_with_numbers_even_when_every_row_was_worked():
    frame, won = _mql_list_with_deal_columns()
    h = load_history(frame, as_of="2026-01-01")
    assert h.shape.kind == "mql_list"
    labels = make_labels(h, horizon_days=90)
    refused = labels.refused.set_index("column")
    assert refused.loc["Contract Kind", "rule"] == "filled for winners"
    a = frame.loc[won, "Contract Kind"].notna().mean()
    assert f"filled for {a:.0%} of the" in refused.loc["Contract Kind", "reason"]
    assert refused.loc["Cycle length", "rule"] == "separates winners"
    assert refused.loc["Lead Temperature", "rule"] == "name"
    assert "Employees band" not in refused.index and "Employees band" in labels.X.columns
    for column in ("Contract Kind", "Cycle length", "Lead Temperature"):
        assert column not in labels.X.columns
        with pytest.raises(LeakageError, match=rf"refusing feature '{column}'"):
            make_labels(h, horizon_days=90, features=["source", column])
    # overruled by name
    allowed = make_labels(h, horizon_days=90, features=["source", "Contract Kind"], allow=["Contract Kind"])
    assert "Contract Kind" in allowed.X.columns


def test_the_separation_auc_agrees_with_scikit_learn_and_noise_passes():
    rng = np.random.default_rng(4)
    y = rng.random(500) < 0.3
    x = pd.Series(rng.normal(size=500) + 0.8 * y)
    auc, se, m1, m0 = _separation(x, y)
    assert auc == pytest.approx(roc_auc_score(y, x))
    assert (m1, m0) == (y.sum(), (~y).sum()) and 0 < se < 0.05
    noise = pd.DataFrame({"noise": rng.normal(size=500), "city": rng.choice(list("abcdefghij"), 500)})
    assert leakage_report(noise, y=y).empty  # no false alarm on honest columns
    ids = pd.DataFrame({"an id": np.arange(500).astype(str)})
    assert leakage_report(ids, y=y).empty  # a unique value per row cannot separate out of fold


# --- the shape of a history --------------------------------------------------------------------------------------
def test_shapes_lead_history_mql_list_opportunity_list():
    frame, _ = _mql_list_with_deal_columns()
    assert history_shape(load_history(frame).leads).kind == "mql_list"
    lead_history = frame.assign(mql_at=frame["mql_at"].where(frame.index % 3 == 0))
    lead_history = lead_history.assign(customer_at=lead_history["customer_at"].where(lead_history["mql_at"].notna()))
    assert load_history(lead_history).shape.kind == "lead_history"
    opps = frame.assign(opportunity_at=frame["created_at"], deal_stage="proposal")
    h = load_history(opps)
    assert h.shape.kind == "opportunity_list" and "past the MQL decision" in h.shape.reason
    with pytest.raises(ShapeError, match=r"an opportunity list: 400 of 400 rows \(100%\) already have a deal"):
        make_labels(h)
    with pytest.raises(ShapeError, match="opportunity list"):
        recommend(h, SalesCapacity())


def test_an_mql_list_allows_a_higher_threshold_only():
    frame, _ = _mql_list_with_deal_columns()
    shape = load_history(frame).shape
    scores = np.array([12.0, 30.0, 45.0])
    assert threshold_floor(shape, scores) == 12.0
    table = pd.DataFrame(
        {
            "threshold": [0.0, 10.0, 20.0, 30.0],
            "mqls": [100, 80, 50, 20],
            "utilisation": [0.5, 0.4, 0.3, 0.2],
            "revenue_per_month": [9.0, 8.0, 5.0, 2.0],
            "wins_per_month": [3.0, 2.0, 1.0, 0.5],
        }
    )
    compliance = pd.Series([0.99] * 4)
    pick = dict(objective="revenue", target=None, sla_target=0.9, compliance=compliance)
    assert choose(table, **pick) == (0, True)  # a lead history: the lowest threshold earns most
    assert choose(table, **pick, min_threshold=12.0) == (2, True)  # an MQL list: none below its floor


# --- type checks ---------------------------------------------------------------------------------------------------
def test_a_number_where_a_team_or_sla_is_expected_says_how_to_build_one():
    with pytest.raises(
        TypeError, match=r"SalesCapacity.team must be a simulate.Team, got 32; build one with simulate.Team\(reps=6\)"
    ):
        SalesCapacity(team=32)
    with pytest.raises(
        TypeError, match=r"SalesCapacity.sla must be a simulate.SLA, got 24; build one with simulate.SLA\(hours=24"
    ):
        SalesCapacity(sla=24)
    with pytest.raises(TypeError, match=r"recommend: capacity must be a calibrate.SalesCapacity, got 32"):
        recommend(pd.DataFrame(), 32)
    with pytest.raises(TypeError, match=r"Team.reps must be a whole number of reps, got '4'"):
        simulate.Team(reps="4")
    with pytest.raises(TypeError, match=r"SLA.hours must be a number, got '24'"):
        simulate.SLA(hours="24")
    with pytest.raises(TypeError, match=r"the history must be a CSV file .* or a pandas DataFrame, got int"):
        load_history(42)


# --- the command line: a mapping file, a deals table, the rejects said and written -----------------------------
def test_command_line_takes_a_mapping_file_and_a_deals_table_and_reports_the_rejects(tmp_path, capsys):
    from calibrate.__main__ import main as calibrate_main
    from calibrate.recommendation import Recommendation

    leads = simulate.run(simulate.Scenario().replace(months=6), seed=3).leads
    deal_columns = ["opportunity_at", "customer_at", "closed_at", "won", "amount", "deal_stage"]
    with_deal = leads[leads["opportunity_at"].notna()]
    deals = pd.DataFrame(
        {
            "Contact": with_deal["lead_id"].to_numpy(),
            "Opened": with_deal["opportunity_at"].to_numpy(),
            "Closed": with_deal["closed_at"].to_numpy(),
            "Won": with_deal["won"].to_numpy(),
            "Value": with_deal["amount"].to_numpy(),
        }
    )
    contacts = leads.drop(columns=deal_columns).rename(columns={"lead_id": "Contact ID", "created_at": "Created"})
    contacts["Created"] = contacts["Created"].astype(str)
    contacts.loc[5, "Created"] = "yesterday"  # one bad row
    contacts.to_csv(tmp_path / "contacts.csv", index=False)
    deals.to_csv(tmp_path / "deals.csv", index=False)
    spec = {
        "name": "our crm",
        "columns": {"lead_id": "Contact ID", "created_at": "Created"},
        "deals": {
            "key": "Contact",
            "columns": {"opportunity_at": "Opened", "closed_at": "Closed", "won": "Won", "amount": "Value"},
        },
    }
    (tmp_path / "mapping.json").write_text(json.dumps(spec))
    out = tmp_path / "config.json"
    args = ["recommend", str(tmp_path / "contacts.csv"), "--mapping", str(tmp_path / "mapping.json")]
    args += ["--deals", str(tmp_path / "deals.csv"), "--reps", "4", "--out", str(out)]
    args += ["--replay-seeds", "0", "--verify-seeds", "0"]  # the reading is what is checked here
    with pytest.warns(UserWarning):
        assert calibrate_main(args) == 0
    printed = capsys.readouterr().out
    assert "a lead history" in printed
    assert f"1 of {len(leads):,} rows of the leads table were not used" in printed
    assert "Created: … is not an ISO 8601 date" in printed
    rejects = pd.read_csv(tmp_path / "config.rejects.csv")
    assert rejects["row"].tolist() == [5] and rejects["table"].tolist() == ["leads"]
    assert Recommendation.from_json(out).constraints["reps"] == 4
    # a mapping that is neither a name nor a file, and a deals file that does not exist
    assert calibrate_main([*args[:2], "--mapping", "pipedrive", "--out", str(tmp_path / "y.json")]) == 2
    assert "--mapping must be hubspot, salesforce or a .toml or .json mapping file" in capsys.readouterr().err
    assert calibrate_main([*args[:4], "--deals", str(tmp_path / "no.csv"), "--out", str(tmp_path / "y.json")]) == 2
    assert "deals file" in capsys.readouterr().err and not (tmp_path / "y.json").exists()
