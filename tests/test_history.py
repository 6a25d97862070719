"""calibrate.load_history: CRM exports into the lead table, every row used or rejected."""

import io

import numpy as np
import pandas as pd
import pytest

import simulate
from calibrate import ColumnMapping, HistoryError, load_history
from calibrate._testing import history_with_outcomes
from calibrate.mappings import email_domain as _email_domain
from calibrate.mappings import employee_count as _employees
from calibrate.mappings import hubspot_contacts, salesforce_leads
from calibrate.mappings import job_level as _job_level
from simulate.io import write_csv

TITLES = {
    "c_level": "Chief Revenue Officer",
    "vp": "VP Marketing",
    "director": "Director of IT",
    "manager": "Sales Manager",
    "individual_contributor": "Data Analyst",
    "student": "Student",
}
EMAIL = {"business": "acme{}.com", "personal": "gmail.com", "disposable": "mailinator.com"}


@pytest.fixture(scope="module")
def history():
    return history_with_outcomes(simulate.run(simulate.Scenario(months=2), seed=5), rng=1, outcomes="truth")


def hubspot_export(leads: pd.DataFrame, tz: str = "Europe/Berlin") -> pd.DataFrame:
    """The leads as HubSpot writes a contacts export: labels, local times to the minute."""

    def local(s):
        return s.dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M").where(s.notna(), "")

    return pd.DataFrame(
        {
            "Record ID": leads["lead_id"],
            "First Name": "Ann",
            "Create Date": local(leads["created_at"]),
            "Original Source": leads["source"].astype(str).str.upper(),
            "Job Title": leads["job_level"].astype(str).map(TITLES),
            "Industry": leads["industry"].astype(str).str.replace("_", " ").str.title(),
            "Number of Employees": leads["company_size"].map("{:,.0f}".format),
            "Country/Region": leads["region"].astype(str),
            "Email": [
                f"a{i}@" + EMAIL[d].format(i % 7)
                for i, d in zip(leads["lead_id"], leads["email_domain"].astype(str), strict=False)
            ],
            "Number of Pageviews": leads["page_views"],
            "Number of Form Submissions": leads["form_submissions"],
            "Marketing emails clicked": leads["email_clicks"],
            "Became a Marketing Qualified Lead Date": local(leads["mql_at"]),
            "Became a Customer Date": local(leads["customer_at"]),
        }
    )


def test_hubspot_export_reads_back_into_the_lead_table(history, tmp_path):
    leads = history.leads
    path = tmp_path / "hubspot.csv"
    hubspot_export(leads).to_csv(path, index=False)
    got = load_history(path, mapping=hubspot_contacts(timezone="Europe/Berlin"))
    assert len(got.leads) == len(leads) and got.rejects.empty
    assert got.n_input_rows == len(leads)
    np.testing.assert_array_equal(got.leads["lead_id"], leads["lead_id"])
    pd.testing.assert_series_equal(got.leads["created_at"], leads["created_at"].dt.floor("min"), check_names=False)
    assert (got.leads["created_at"].dt.tz is not None) and str(got.leads["created_at"].dt.tz) == "UTC"
    for column in ("source", "job_level", "industry", "region", "email_domain"):
        np.testing.assert_array_equal(got.leads[column].astype(str), leads[column].astype(str), err_msg=column)
    np.testing.assert_array_equal(got.leads["company_size"], leads["company_size"])
    for column in ("page_views", "form_submissions", "email_clicks"):
        np.testing.assert_array_equal(got.leads[column], leads[column])
    assert "pricing_page_views" not in got.leads  # not in the export: unknown, not zero
    mql = leads["mql_at"].dt.floor("min")
    pd.testing.assert_series_equal(got.leads["mql_at"], mql, check_names=False)
    assert got.extra_columns == ("First Name",)
    assert got.as_of == got.leads[["created_at", "mql_at", "customer_at"]].max().max()


def test_salesforce_export_with_utc_times_and_date_only_fields():
    csv = (
        "Id,CreatedDate,LeadSource,Title,Industry,NumberOfEmployees,Country,Email,MQL_Date__c,"
        "ConvertedDate,ConvertedOpportunity.IsWon,ConvertedOpportunity.CloseDate,ConvertedOpportunity.Amount\n"
        "00Q1,2026-01-05T09:30:00.000Z,Web,Chief Executive Officer,Software,51-200,Germany,"
        "a@firm.de,"
        "2026-01-06T10:00:00.000Z,2026-01-20,true,2026-02-10,12000\n"
        "00Q2,2026-01-05T11:00:00.000Z,Partner Referral,VP of Sales,Retail,1200,France,b@gmail.com,"
        "2026-01-05T12:00:00.000Z,2026-01-05,false,2026-03-01,\n"
        "00Q3,2026-01-07T08:00:00.000Z,Web,Intern,Education,10000+,Spain,c@mailinator.com,,,,,\n"
    )
    got = load_history(io.StringIO(csv), mapping="salesforce")
    leads = got.leads
    assert got.rejects.empty
    assert leads["lead_id"].tolist() == ["00Q1", "00Q2", "00Q3"]
    assert leads["source"].tolist() == ["web", "partner_referral", "web"]
    assert leads["job_level"].tolist() == ["c_level", "vp", "student"]
    assert leads["company_size"].tolist() == [101.0, 1200.0, 10000.0]
    assert leads["email_domain"].tolist() == ["business", "personal", "disposable"]
    assert leads["lead_type"].astype(str).tolist() == ["new_business"] * 3
    assert leads["won"].tolist() == [True, False, pd.NA]
    assert leads["customer_at"].iloc[0] == pd.Timestamp("2026-02-10", tz="UTC")
    assert leads["customer_at"].iloc[1:].isna().all()
    # converted "2026-01-05" is a whole day: same day as the MQL moment is not "earlier"
    assert leads["opportunity_at"].iloc[1] == leads["mql_at"].iloc[1]
    assert salesforce_leads().name == "salesforce"


def test_custom_mapping_with_a_date_format_and_a_time_zone():
    csv = (
        "id;created;channel;kind;when mql\n"
        "7;31/03/2026 09:15;Email;existing_customer;01/04/2026 08:00\n"
        "8;07/03/2026 02:30;Email;new_business;\n"
    )
    mapping = ColumnMapping(
        name="our crm",
        columns={
            "lead_id": "id",
            "created_at": "created",
            "source": "channel",
            "lead_type": "kind",
            "mql_at": "when mql",
        },
        date_formats={"created_at": "%d/%m/%Y %H:%M", "mql_at": "%d/%m/%Y %H:%M"},
        timezone="America/New_York",
        converters={"source": "snake"},
    )
    got = load_history(io.StringIO(csv), mapping=mapping, sep=";")
    assert got.leads["created_at"].tolist() == [
        pd.Timestamp("2026-03-31 13:15", tz="UTC"),
        pd.Timestamp("2026-03-07 07:30", tz="UTC"),
    ]
    assert got.leads["source"].tolist() == ["email", "email"]
    plain = load_history(
        pd.DataFrame({"ID": [1], "Created": ["2026-01-01T10:00:00+02:00"], "Src": ["x"]}),
        mapping={"lead_id": "ID", "created_at": "Created", "source": "Src"},
    )
    assert plain.leads["created_at"].iloc[0] == pd.Timestamp("2026-01-01 08:00", tz="UTC")


def test_a_time_in_a_clock_change_is_rejected_with_its_reason():
    frame = pd.DataFrame(
        {
            "lead_id": range(30),
            "created_at": ["2026-03-29 01:30"] * 29 + ["2026-03-29 02:30"],
            "source": "web",
            "lead_type": "new_business",
        }
    )
    got = load_history(frame, mapping=ColumnMapping(columns={c: c for c in frame}, timezone="Europe/Berlin"))
    assert len(got.leads) == 29
    assert got.rejects["reason"].iloc[0] == (
        "'2026-03-29 02:30' does not exist or is ambiguous in time zone Europe/Berlin (clock change)"
    )


def test_every_row_is_used_or_rejected_with_its_reason():
    rows = [
        ("1", "2026-01-01 10:00", "web", "3", "2026-01-02 10:00"),
        ("2", "2026-01-01 10:00", "web", "-2", ""),  # negative count
        ("3", "yesterday", "web", "1", ""),  # not a date
        ("4", "2026-01-03 10:00", "web", "1", "2026-01-02 10:00"),  # MQL before creation
        ("1", "2026-01-04 10:00", "web", "1", ""),  # repeats lead 1
        ("", "2026-01-04 10:00", "web", "1", ""),  # no id
        *((str(i), "2026-01-05 10:00", "ads", "0", "") for i in range(10, 110)),
    ]
    frame = pd.DataFrame(rows, columns=["lead_id", "created_at", "source", "page_views", "mql_at"]).assign(
        lead_type="new_business"
    )
    got = load_history(frame)
    reasons = dict(zip(got.rejects["row"], got.rejects["reason"], strict=False))
    assert reasons == {
        1: "'-2' is not a whole count >= 0",
        2: "'yesterday' is not an ISO 8601 date (2026-01-31 or 2026-01-31 14:05); set ColumnMapping.date_formats",
        3: "mql_at (2026-01-02 10:00 UTC) is earlier than created_at (2026-01-03 10:00 UTC)",
        4: "lead id '1' repeats row 0",
        5: "the lead id is empty",
    }
    assert len(got.leads) + got.rejects["row"].nunique() == len(frame) == got.n_input_rows
    assert got.rejects.loc[got.rejects["row"] == 3, "lead_id"].item() == "4"
    assert "rejected=5 of 106 rows" in repr(got)


def test_a_simulated_history_round_trips_through_csv(history, tmp_path):
    write_csv(history.leads, tmp_path / "leads.csv", index=False)
    got = load_history(tmp_path / "leads.csv")
    for column in (
        "lead_id",
        "created_at",
        "mql_at",
        "customer_at",
        "company_size",
        "page_views",
        "won",
    ):
        pd.testing.assert_series_equal(
            got.leads[column],
            history.leads[column],
            check_dtype=False,
            check_categorical=False,
            obj=column,
        )
    assert load_history(simulate.run(simulate.Scenario(months=1), seed=2)).source == "simulate.run(seed=2)"


@pytest.mark.parametrize(
    ("title", "level"),
    [
        ("CEO", "c_level"),
        ("Co-Founder & CTO", "c_level"),
        ("Senior Vice President, Sales", "vp"),
        ("SVP Engineering", "vp"),
        ("Head of Growth", "director"),
        ("IT Director", "director"),
        ("Product Manager", "manager"),
        ("Team Lead", "manager"),
        ("MBA Student", "student"),
        ("Software Engineer", "individual_contributor"),
    ],
)
def test_job_titles_map_to_levels(title, level):
    assert _job_level(title) == level


def test_converters_for_e_mail_and_employees():
    assert [_email_domain(a) for a in ("x@Acme.io", "x@gmail.com", "x@yahoo.co.uk", "x@yopmail.com", "nope")] == [
        "business",
        "personal",
        "personal",
        "disposable",
        None,
    ]
    assert [_employees(v) for v in ("1-5", "51-200", "1000+", "1,234", 40)] == [
        2.0,
        101.0,
        1000.0,
        "1234",
        40,
    ]


# --- a bad file: one clear error naming the column and the row ----------------------------
def _write(tmp_path, text: str | bytes, name="leads.csv"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


GOOD = "lead_id,created_at,source,lead_type,page_views,mql_at\n"


def test_empty_files(tmp_path):
    with pytest.raises(HistoryError, match=r"leads.csv: the file is empty \(no header, no rows\)"):
        load_history(_write(tmp_path, ""))
    with pytest.raises(HistoryError, match=r"leads.csv: the file has a header but no data rows"):
        load_history(_write(tmp_path, GOOD))
    with pytest.raises(HistoryError, match=r"missing.csv: no such file"):
        load_history(tmp_path / "missing.csv")


def test_wrong_delimiter(tmp_path):
    text = GOOD.replace(",", ";") + "1;2026-01-01;web;new_business;1;\n"
    with pytest.raises(HistoryError, match=r"the file looks ';'-separated, pass sep=';'"):
        load_history(_write(tmp_path, text))


def test_wrong_encoding(tmp_path):
    text = (GOOD + "1,2026-01-01,Müller & Söhne,new_business,1,\n").encode("latin-1")
    with pytest.raises(
        HistoryError,
        match=r"leads.csv: line 2 is not utf-8 text \(byte 0xfc at position \d+\); "
        r"save the export as UTF-8 or pass encoding=",
    ):
        load_history(_write(tmp_path, text))
    assert load_history(_write(tmp_path, text), encoding="latin-1").leads["source"].iloc[0] == "Müller & Söhne"


def test_a_line_with_too_many_fields(tmp_path):
    text = GOOD + "1,2026-01-01,web,new_business,1,\n2,2026-01-01,web,new_business,1,,extra,more\n"
    with pytest.raises(HistoryError, match=r"line 3 has 8 fields, more than the header; check the delimiter"):
        load_history(_write(tmp_path, text))


def test_missing_column(tmp_path):
    text = "lead_id,source,lead_type\n1,web,new_business\n"
    with pytest.raises(
        HistoryError,
        match=r"leads.csv: required column 'created_at' is missing \(mapping 'lead table'",
    ):
        load_history(_write(tmp_path, text))
    with pytest.raises(
        HistoryError,
        match=r"required column 'created_at' is missing \(mapping 'hubspot' looks for "
        r"'Create Date' or 'createdate'; the file has 'Record ID'",
    ):
        load_history(pd.DataFrame({"Record ID": [1], "Original Source": ["x"]}), mapping="hubspot")


def test_wrong_type_of_a_whole_column(tmp_path):
    text = GOOD + "".join(f"{i},2026-01-0{i},web,new_business,lots,\n" for i in range(1, 5))
    with pytest.raises(
        HistoryError,
        match=r"leads.csv: column 'page_views', row 0 \(line 2\): expected a number, "
        r"got 'lots' \(no value of the column parses",
    ):
        load_history(_write(tmp_path, text))
    text = GOOD + "".join(f"{i},05/01/2026,web,new_business,1,\n" for i in range(1, 5))
    with pytest.raises(HistoryError, match=r"column 'created_at', row 0 \(line 2\): expected an ISO 8601 date"):
        load_history(_write(tmp_path, text))


def test_dates_in_the_wrong_order(tmp_path):
    text = GOOD + "1,2026-01-05,web,new_business,1,2026-01-06\n" + "2,2026-01-05 10:00,web,new_business,1,2026-01-04\n"
    with pytest.raises(
        HistoryError,
        match=r"leads.csv: column 'mql_at', row 1 \(line 3\): mql_at \(2026-01-04 00:00 "
        r"UTC\) is earlier than created_at \(2026-01-05 10:00 UTC\)",
    ):
        load_history(_write(tmp_path, text))  # one bad row of two is too many to be a stray
    assert len(load_history(_write(tmp_path, text), max_reject_share=0.5).leads) == 1


def test_duplicate_ids(tmp_path):
    text = GOOD + "".join(f"{i % 3},2026-01-05,web,new_business,1,\n" for i in range(6))
    with pytest.raises(
        HistoryError,
        match=r"leads.csv: column 'lead_id', row 3 \(line 5\): lead id 0 repeats row 0 "
        r"\(and 2 more rows: 3 of 6\)",
    ):
        load_history(_write(tmp_path, text))


def test_on_error_raise_stops_at_the_first_bad_row():
    frame = pd.DataFrame(
        {
            "lead_id": range(100),
            "created_at": "2026-01-01",
            "source": "web",
            "lead_type": "new_business",
            "page_views": [1] * 99 + [-1],
        }
    )
    assert len(load_history(frame).leads) == 99
    with pytest.raises(HistoryError, match=r"DataFrame: column 'page_views', row 99: -1 is not a whole count >= 0"):
        load_history(frame, on_error="raise")


def test_bad_arguments():
    frame = pd.DataFrame({"lead_id": [1], "created_at": ["2026-01-01"], "source": ["x"], "lead_type": ["y"]})
    with pytest.raises(ValueError, match=r"on_error must be 'reject' or 'raise', got 'ignore'"):
        load_history(frame, on_error="ignore")
    with pytest.raises(
        ValueError,
        match=r"mapping must be 'hubspot', 'salesforce', a mapping file \(.toml or .json\), a ColumnMapping or a dict",
    ):
        load_history(frame, mapping="pipedrive")
    with pytest.raises(ValueError, match=r"ColumnMapping 'x': 'nickname' is not a lead-table column"):
        ColumnMapping(name="x", columns={"nickname": "Name"})
    with pytest.raises(ValueError, match=r"converter 'upper' for 'source' is not one of"):
        ColumnMapping(name="x", converters={"source": "upper"})
    with pytest.raises(ValueError, match=r"timezone 'Mars/Olympus' is not a known time zone"):
        hubspot_contacts(timezone="Mars/Olympus")
