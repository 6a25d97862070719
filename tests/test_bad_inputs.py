"""The catalogue of bad inputs (issue 8, item 1; listed in ``docs/bad_inputs.md``).

Every kind of bad input gets one clear error that names the file, the column or key and the
row, and nothing is written. A bad row in an otherwise good history is left out and listed
with its reason in ``History.rejects`` (``on_error="raise"`` makes it the error instead);
when a column's bad rows are more than ``max_reject_share`` of the file, the column itself is
wrong and one error names it.
"""

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

import simulate
from calibrate import HistoryError, load_history, make_labels
from calibrate.mappings import lead_table_mapping
from calibrate.recommendation import Estimate, Recommendation, RecommendationError
from simulate import Scenario, ScoringRules
from simulate.__main__ import main
from simulate.spec import SpecError

HEADER = "lead_id,created_at,source,lead_type,page_views,mql_at,won,amount"
N, BAD = 40, 7  # rows in a test export; the bad one (file line BAD + 2)


def good_row(i: int) -> dict[str, str]:
    return {
        "lead_id": str(i),
        "created_at": f"2026-01-{i % 28 + 1:02d} 10:00",
        "source": "web",
        "lead_type": "new_business",
        "page_views": str(i % 5),
        "mql_at": f"2026-02-{i % 28 + 1:02d} 10:00" if i % 3 else "",
        "won": "true" if i % 6 == 1 else "false" if i % 3 else "",
        "amount": "1200" if i % 6 == 1 else "",
    }


def export(
    tmp_path: Path,
    bad: dict[str, str] | None = None,
    *,
    rows=N,
    name="leads.csv",
    header=HEADER,
    sep=",",
    encoding="utf-8",
) -> Path:
    """A CSV export of ``rows`` good leads, row ``BAD`` changed by ``bad``."""
    columns = header.split(",")
    lines = [sep.join(columns)]
    for i in range(rows):
        cells = {**good_row(i), **(bad if bad and i == BAD else {})}
        lines.append(sep.join(cells[c] for c in columns))
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def where(path: Path, column: str, row: int) -> str:
    """How a message names the file, the column and the row."""
    return re.escape(f"{path}: column '{column}', row {row} (line {row + 2})")


def test_the_test_export_is_good(tmp_path):
    history = load_history(export(tmp_path))
    assert len(history.leads) == N and history.rejects.empty


# --- history files: the whole file is bad ---------------------------------------------
FILE_CASES = {
    "empty file": (b"", {}, r"the file is empty \(no header, no rows\)"),
    "blank lines and a BOM only": (b"\xef\xbb\xbf\n \n\r\n", {}, r"the file is empty"),
    "header only": ((HEADER + "\n").encode(), {}, r"the file has a header but no data rows"),
    "wrong delimiter": (
        lambda p: export(p, sep=";").read_bytes(),
        {},
        r"the header has one column 'lead_id;created_at;.*'; the file looks ';'-separated, "
        r"pass sep=';'",
    ),
    "tab-separated": (
        lambda p: export(p, sep="\t").read_bytes(),
        {},
        r"the header has one column .*; the file looks '\\t'-separated, pass sep='\\t'",
    ),
    "wrong encoding (cp1252)": (
        lambda p: export(p, {"source": "Müller"}, encoding="cp1252").read_bytes(),
        {},
        rf"line {BAD + 2} is not utf-8 text \(byte 0xfc at position \d+\); save the export as "
        r"UTF-8 or pass encoding=",
    ),
    "UTF-16 file": (
        lambda p: export(p, encoding="utf-16").read_bytes(),
        {},
        r"line 1 is not utf-8 text \(byte 0xff at position 0\)",
    ),
    "missing required column": (
        lambda p: export(p, header=HEADER.replace("created_at,", "")).read_bytes(),
        {},
        r"required column 'created_at' is missing \(mapping 'lead table' looks for "
        r"'created_at'; the file has 'lead_id', 'source'",
    ),
    "missing column of a named mapping": (
        lambda p: export(p).read_bytes(),
        {"mapping": "hubspot"},
        r"required column 'lead_id' is missing \(mapping 'hubspot' looks for 'Record ID' or "
        r"'Contact ID'",
    ),
    "duplicated header name": (
        lambda p: export(p).read_bytes().replace(b"page_views", b" Source", 1),
        {},
        r"column 'Source' appears twice in the header \(columns 3 and 5\); rename or remove one",
    ),
    "trailing delimiter on every data line": (
        lambda p: export(p).read_text().replace("\n", ",\n").replace(HEADER + ",", HEADER).encode(),
        {},
        r"line 2 has 9 fields, more than the header; check the delimiter \(sep=','\)",
    ),
    "a line with too many fields": (
        lambda p: export(p, {"amount": "1,200"}).read_bytes(),
        {},
        rf"line {BAD + 2} has 9 fields, more than the header",
    ),
    "a quote never closed": (
        lambda p: export(p, {"source": '"web'}).read_bytes(),
        {},
        rf"line {BAD + 2} opens a quote \(\"\) that is never closed",
    ),
}


@pytest.mark.parametrize("case", list(FILE_CASES))
def test_a_bad_file_gets_one_error_naming_the_file(tmp_path, case):
    content, kwargs, match = FILE_CASES[case]
    (tmp_path / "src").mkdir()
    data = content(tmp_path / "src") if callable(content) else content
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(HistoryError, match=rf"^{re.escape(str(path))}: {match}"):
        load_history(path, **kwargs)
    assert sorted(os.listdir(tmp_path)) == before  # nothing written


def test_a_missing_history_file(tmp_path):
    with pytest.raises(HistoryError, match=rf"^{re.escape(str(tmp_path / 'nope.csv'))}: no such file"):
        load_history(tmp_path / "nope.csv")


# --- history files: one bad row ---------------------------------------------------------
BERLIN = lead_table_mapping(HEADER.split(","), timezone="Europe/Berlin")
ROW_CASES = {
    "non-numeric count": ("page_views", {"page_views": "lots"}, {}, r"'lots' is not a number"),
    "negative count": ("page_views", {"page_views": "-2"}, {}, r"'-2' is not a whole count >= 0"),
    "fractional count": ("page_views", {"page_views": "1.5"}, {}, r"'1\.5' is not a whole count >= 0"),
    "huge count": (
        "page_views",
        {"page_views": "1e18"},
        {},
        r"'1e18' is not a finite number of at most 1e\+15 in size",
    ),
    "count beyond int64": (
        "page_views",
        {"page_views": "99999999999999999999999"},
        {},
        r"'99999999999999999999999' is not a finite number",
    ),
    "infinite amount": ("amount", {"amount": "inf"}, {}, r"'inf' is not a finite number"),
    "amount overflowing a float": ("amount", {"amount": "1e400"}, {}, r"'1e400' is not a finite number"),
    "not a number (text in a number column)": ("amount", {"amount": "N/A?"}, {}, r"'N/A\?' is not a number"),
    "unparseable date": (
        "created_at",
        {"created_at": "yesterday"},
        {},
        r"'yesterday' is not an ISO 8601 date \(2026-01-31 or 2026-01-31 "
        r"14:05\); set ColumnMapping\.date_formats",
    ),
    "date in another format (mixed formats)": (
        "created_at",
        {"created_at": "05/01/2026"},
        {},
        r"'05/01/2026' is not an ISO 8601 date",
    ),
    "impossible calendar date": ("mql_at", {"mql_at": "2026-02-30"}, {}, r"'2026-02-30' is not an ISO 8601 date"),
    "placeholder date (1970-01-01)": (
        "created_at",
        {"created_at": "1970-01-01"},
        {},
        r"'1970-01-01' is outside 1980 to 2099 \(a placeholder "
        r"date or a mistyped year\?\)",
    ),
    "year out of range (0001, 9999)": ("mql_at", {"mql_at": "9999-12-31"}, {}, r"'9999-12-31' is outside 1980 to 2099"),
    "date in the future (after as_of)": (
        "created_at",
        {"created_at": "2026-05-01 09:00"},
        {"as_of": "2026-04-01"},
        r"created_at \(2026-05-01 09:00 UTC\) is after the as-of "
        r"date \(2026-04-01 00:00 UTC\): a time in the future",
    ),
    "dates out of order (MQL before creation)": (
        "mql_at",
        {"mql_at": "2026-01-01 09:00"},
        {},
        r"mql_at \(2026-01-01 09:00 UTC\) is earlier "
        r"than created_at \(2026-01-08 10:00 UTC\)",
    ),
    "time that a clock change skips": (
        "created_at",
        {"created_at": "2026-03-29 02:30"},
        {"mapping": BERLIN},
        r"'2026-03-29 02:30' does not exist or is ambiguous in "
        r"time zone Europe/Berlin \(clock change\)",
    ),
    "duplicate id": ("lead_id", {"lead_id": "3"}, {}, r"lead id 3 repeats row 3"),
    "empty id": ("lead_id", {"lead_id": ""}, {}, r"the lead id is empty"),
    "not a true/false": ("won", {"won": "maybe"}, {}, r"'maybe' is not true/false \(yes/no, 1/0, won/lost\)"),
    "NUL byte in a cell": (
        "created_at",
        {"created_at": "2026-01-08\x00"},
        {},
        r"'2026-01-08\\x00' is not an ISO 8601 date",
    ),
}


@pytest.mark.parametrize("case", list(ROW_CASES))
def test_a_bad_row_is_named_or_rejected_with_its_reason(tmp_path, case):
    column, bad, kwargs, reason = ROW_CASES[case]
    path = export(tmp_path, bad)
    with pytest.raises(HistoryError, match=rf"^{where(path, column, BAD)}: {reason}"):
        load_history(path, on_error="raise", **kwargs)
    history = load_history(path, **kwargs)  # one stray bad row: left out and listed
    assert len(history.leads) == N - 1 and history.n_input_rows == N
    assert history.rejects["row"].tolist() == [BAD]
    assert history.rejects["column"].tolist() == [column]
    assert re.match(reason, history.rejects["reason"].iloc[0])
    if column != "lead_id":
        assert BAD not in history.leads["lead_id"].tolist()
        assert history.rejects["lead_id"].tolist() == [BAD]


def test_too_many_bad_rows_make_the_column_wrong(tmp_path):
    path = export(tmp_path, rows=N)
    text = path.read_text().splitlines()
    for line in (3, 9, 20, 30):  # 4 of 40 rows > 5%
        cells = text[line].split(",")
        cells[4] = "-1"
        text[line] = ",".join(cells)
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(
        HistoryError,
        match=rf"^{where(path, 'page_views', 2)}: '-1' is not a whole count >= 0 "
        r"\(and 3 more rows: 4 of 40\)$",
    ):
        load_history(path)
    assert len(load_history(path, max_reject_share=0.1).rejects) == 4


def test_a_column_of_the_wrong_type(tmp_path):
    path = export(tmp_path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["page_views"] = "many"
    frame.to_csv(path, index=False)
    with pytest.raises(
        HistoryError,
        match=rf"^{where(path, 'page_views', 0)}: expected a number, got 'many' \(no value of "
        r"the column parses: is it the right column, the right type\?\)$",
    ):
        load_history(path)


def test_a_date_column_in_another_format(tmp_path):
    path = export(tmp_path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["created_at"] = pd.to_datetime(frame["created_at"]).dt.strftime("%d.%m.%Y")
    frame.to_csv(path, index=False)
    with pytest.raises(
        HistoryError,
        match=rf"^{where(path, 'created_at', 0)}: expected an ISO 8601 date \(2026-01-31 or "
        r"2026-01-31 14:05\), got '01\.01\.2026'",
    ):
        load_history(path)


def test_a_dataframe_cell_holding_a_list(tmp_path):
    frame = pd.read_csv(export(tmp_path), dtype=str, keep_default_na=False)
    frame["source"] = frame["source"].astype(object)
    frame.at[BAD, "source"] = ["web", "ads"]
    with pytest.raises(
        HistoryError,
        match=rf"^DataFrame: column 'source', row {BAD}: a cell must hold one value \(text, a "
        r"number or a time\), got a list \['web', 'ads'\]$",
    ):
        load_history(frame)


def test_mixed_time_zones_are_each_converted_not_an_error(tmp_path):
    """Not an error: a time with an offset keeps it; one without is read in the mapping's
    zone (``ColumnMapping.timezone``); all are stored in UTC."""
    path = export(tmp_path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, "created_at"] = "2026-01-01T10:00:00Z"
    frame.loc[1, "created_at"] = "2026-01-02T10:00:00+05:30"
    frame.loc[2, "created_at"] = "2026-01-03 10:00"
    frame.to_csv(path, index=False)
    got = load_history(path, mapping=BERLIN).leads["created_at"].head(3).tolist()
    assert got == [
        pd.Timestamp("2026-01-01 10:00", tz="UTC"),
        pd.Timestamp("2026-01-02 04:30", tz="UTC"),
        pd.Timestamp("2026-01-03 09:00", tz="UTC"),
    ]


def test_a_single_row_loads_but_cannot_be_judged(tmp_path):
    """A single row loads (there is nothing wrong with it) but cannot be fitted."""
    one = load_history(export(tmp_path, rows=1))
    assert len(one.leads) == 1
    with pytest.raises(ValueError, match=r"leads\.csv: no lead can be judged yet: 0 of 1 leads"):
        make_labels(one)


# --- history files: labels that cannot be fitted --------------------------------------
def _labelled(tmp_path, won: str, rows: int = N) -> Path:
    path = export(tmp_path, rows=rows)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["mql_at"] = frame["created_at"]
    frame["won"] = won
    frame.to_csv(path, index=False)
    return path


def test_labels_of_one_class_only(tmp_path):
    path = _labelled(tmp_path, won="false")
    history = load_history(path, as_of="2026-12-31")
    with pytest.raises(
        ValueError,
        match=rf"^{re.escape(str(path))}: all 40 judged leads did not reach the target 'won' "
        r"within 90 days: labels of one outcome only leave nothing to fit",
    ):
        make_labels(history)


def test_a_single_judged_row(tmp_path):
    history = load_history(_labelled(tmp_path, won="true", rows=1), as_of="2026-12-31")
    with pytest.raises(ValueError, match=r"leads\.csv: all 1 judged leads reached the target"):
        make_labels(history)


def test_no_lead_old_enough_to_judge(tmp_path):
    path = _labelled(tmp_path, won="false")
    with pytest.raises(
        ValueError,
        match=rf"^{re.escape(str(path))}: no lead can be judged yet: 40 of 40 leads were worked "
        r"and 40 of those are too young to judge within 90 days as of 2026-02-01",
    ):
        make_labels(load_history(path, as_of="2026-02-01"))


# --- scenarios (TOML) -------------------------------------------------------------------
SCENARIO_CASES = {
    "unknown key": ("[team]\nrepz = 3\n", r"team\.repz: unknown key; Team takes reps, "),
    "unknown key in a list of tables": (
        '[[arrivals.campaigns]]\nname = "x"\nstart = "2026-02-01"\ndayz = 3\n',
        r"arrivals\.campaigns\[0\]\.dayz: unknown key",
    ),
    "wrong type (text for a number)": ('[sla]\nhours = "eight"\n', r"sla\.hours: expected a number, got 'eight'"),
    "wrong type (true for a number)": ("months = true\n", r"months: expected a whole number, got True"),
    "wrong type (a date, not text)": (
        "start = 2026-01-01\n",
        r"start: expected a string, got datetime\.date\(2026, 1, 1\)",
    ),
    "wrong type (a value for a table)": ("arrivals = 3\n", r"arrivals: expected a table of keys"),
    "not a finite number": ("[sla]\nhours = nan\n", r"sla\.hours: expected a finite number, got nan"),
    "impossible value (no reps)": ("[team]\nreps = 0\n", r"team: Team\.reps must be >= 1, got 0"),
    "impossible value (a share above 1)": (
        "[sla]\ntarget = 1.5\n",
        r"SLA\.target must be a probability in \[0, 1\], got 1\.5",
    ),
    "impossible value (shares not adding up)": (
        "[population.sources]\nweb = 0.5\nads = 0.4\n",
        r"Population\.sources shares must add up to 1, got 0\.9",
    ),
    "scenario from a newer version": (
        'format = "leadfunnel.scenario/2"\n',
        r"format 'leadfunnel\.scenario/2' is not 'leadfunnel\.scenario/1' \(a scenario from "
        r"another program, or from a newer leadfunnel\)",
    ),
    "not TOML": ("months = 1\nname = \n", r"not valid TOML \(Invalid value \(at line 2, column 8\)\)"),
}


@pytest.mark.parametrize("case", list(SCENARIO_CASES))
def test_a_bad_scenario_names_the_file_and_the_key(tmp_path, case):
    text, match = SCENARIO_CASES[case]
    path = tmp_path / "scenario.toml"
    path.write_text(text)
    with pytest.raises(SpecError, match=rf"^{re.escape(str(path))}: .*{match}"):
        Scenario.from_toml(path)


def test_a_scenario_that_is_not_utf8(tmp_path):
    path = tmp_path / "scenario.toml"
    path.write_bytes('name = "Müller"\n'.encode("cp1252"))
    with pytest.raises(
        SpecError,
        match=rf"^{re.escape(str(path))}: not UTF-8 text \(byte 0xfc "
        r"at position 9\); save the scenario as UTF-8$",
    ):
        Scenario.from_toml(path)


def test_a_missing_scenario_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^scenario file .*nope\.toml does not exist$"):
        Scenario.from_toml(tmp_path / "nope.toml")


# --- scoring rules (JSON) ---------------------------------------------------------------
RULES_CASES = {
    "not a table (a list)": ("[]", r"expected a table of keys, got list"),
    "not a table (null)": ("null", r"expected a table of keys, got NoneType"),
    "unknown key": ('{"mql_treshold": 50}', r"mql_treshold: unknown key; ScoringRules takes"),
    "wrong type (text points)": (
        '{"fit": {"job_level": {"vp": "ten"}}}',
        r"fit\.job_level\.vp: expected a whole number, got 'ten'",
    ),
    "wrong type (fractional points)": (
        '{"engagement": {"page_views": {"edges": [1], "points": [0, 2.5]}}}',
        r"engagement\.page_views\.points\[1\]: expected a whole number, got 2\.5",
    ),
    "impossible value (min above max)": (
        '{"score_min": 100, "score_max": 0}',
        r"ScoringRules\.score_min \(100\.0\) must be below",
    ),
    "impossible value (edges not increasing)": (
        '{"engagement": {"page_views": {"edges": [5, 1], "points": [0, 1, 2]}}}',
        r"engagement\.page_views: Bins\.edges must be strictly increasing",
    ),
    "not a finite number": ('{"mql_threshold": NaN}', r"mql_threshold: expected a finite number, got nan"),
    "rules from a newer version": (
        '{"format": "leadfunnel.scoring_rules/2"}',
        r"format 'leadfunnel\.scoring_rules/2' is not "
        r"'leadfunnel\.scoring_rules/1' \(rules from another program, "
        r"or from a newer leadfunnel\)",
    ),
    "not JSON": ('{"mql_threshold": 5,}', r"not valid JSON \(.*line 1 column 21"),
    "nested too deeply": ("[" * 100_000 + "]" * 100_000, r"not valid JSON \(nested too deeply\)"),
}


@pytest.mark.parametrize("case", list(RULES_CASES))
def test_bad_rules_name_the_file_and_the_key(tmp_path, case):
    text, match = RULES_CASES[case]
    path = tmp_path / "rules.json"
    path.write_text(text)
    with pytest.raises(SpecError, match=rf"^{re.escape(str(path))}: .*{match}"):
        ScoringRules.from_json(path)


def test_a_missing_rules_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"^rules file .*nope\.json does not exist$"):
        ScoringRules.from_json(tmp_path / "nope.json")


# --- recommendation configs (JSON with a schema) ----------------------------------------
def _config(**changes) -> dict:
    rec = Recommendation(
        rules=simulate.scenario.default_rules(),
        threshold=60.0,
        objective="revenue",
        constraints={"reps": 4, "sla_hours": 8.0, "sla_clock": "business", "sla_target": 0.9},
        expected={"mqls_per_month": Estimate(120.0)},
        seed=3,
        data_fingerprint="sha256:" + "0" * 64,
    )
    return {**json.loads(rec.to_json()), **changes}


CONFIG_CASES = {
    "config from a newer version": (
        lambda: _config(format="leadfunnel.recommendation/2"),
        r"format 'leadfunnel\.recommendation/2' is not one this version reads "
        r"\(leadfunnel\.recommendation/1\); it may come from a newer leadfunnel",
    ),
    "unknown key": (
        lambda: _config(colour="red"),
        r"key '\(top\)' fails the schema: Additional properties are not allowed "
        r"\('colour' was unexpected\)",
    ),
    "wrong type": (
        lambda: _config(seed="seven"),
        r"key 'seed' fails the schema: 'seven' is not "
        r"of type 'integer'",
    ),
    "impossible value": (
        lambda: _config(constraints={"reps": 0, "sla_hours": 8, "sla_clock": "business", "sla_target": 0.9}),
        r"key 'constraints/reps' fails the schema: 0 is less than the minimum of 1",
    ),
    "missing key": (lambda: {k: v for k, v in _config().items() if k != "seed"}, r"'seed' is a required property"),
    "bad rules inside": (
        lambda: _config(rules={**_config()["rules"], "score_min": 200.0}),
        r"rules: .*ScoringRules\.score_min \(200\.0\) must be below",
    ),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_a_bad_config_names_the_file_and_the_key(tmp_path, case):
    make, match = CONFIG_CASES[case]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(make()))
    with pytest.raises(RecommendationError, match=rf"^{re.escape(str(path))}: .*{match}"):
        Recommendation.from_json(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [(None, r"file does not exist"), (b"{", r"not valid JSON"), ("é".encode("cp1252"), r"not UTF-8 text")],
)
def test_an_unreadable_config(tmp_path, content, match):
    path = tmp_path / "config.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(RecommendationError, match=rf"^{re.escape(str(path))}: {match}"):
        Recommendation.from_json(path)


# --- the command line: python -m simulate run -------------------------------------------
@pytest.fixture
def no_simulation(monkeypatch):
    """Fail the test if the command runs a simulation: bad input must stop it before."""

    def refuse(*args, **kwargs):
        raise AssertionError("the command simulated before checking its input")

    monkeypatch.setattr("simulate.__main__.run", refuse)


def _cli(capsys, *args) -> tuple[int, str]:
    code = main(["run", *map(str, args)])
    return code, capsys.readouterr().err


def test_cli_missing_scenario_file(tmp_path, capsys, no_simulation):
    code, err = _cli(capsys, "--scenario", tmp_path / "nope.toml", "--out", tmp_path / "out")
    assert code == 2
    assert err == f"error: scenario file {tmp_path / 'nope.toml'} does not exist\n"
    assert os.listdir(tmp_path) == []


def test_cli_bad_scenario(tmp_path, capsys, no_simulation):
    path = tmp_path / "s.toml"
    path.write_text("[team]\nreps = -1\n")
    code, err = _cli(capsys, "--scenario", path, "--out", tmp_path / "out")
    assert code == 2 and err == f"error: {path}: team: Team.reps must be >= 1, got -1\n"
    assert os.listdir(tmp_path) == ["s.toml"]


def test_cli_output_folder_under_a_file(tmp_path, capsys, no_simulation):
    """Works as root too: no permission bits involved."""
    (tmp_path / "notes.txt").write_text("x")
    code, err = _cli(capsys, "--out", tmp_path / "notes.txt" / "out")
    assert code == 2
    assert err == (
        f"error: cannot write to {tmp_path / 'notes.txt' / 'out'}: {tmp_path / 'notes.txt'} is a file, not a folder\n"
    )
    assert os.listdir(tmp_path) == ["notes.txt"] and (tmp_path / "notes.txt").read_text() == "x"


def test_cli_output_folder_is_a_file(tmp_path, capsys, no_simulation):
    (tmp_path / "out").write_text("x")
    code, err = _cli(capsys, "--out", tmp_path / "out")
    assert code == 2 and err == f"error: cannot write to {tmp_path / 'out'}: it is a file, not a folder\n"
    assert (tmp_path / "out").read_text() == "x"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes anywhere")
def test_cli_read_only_output_folder(tmp_path, capsys, no_simulation):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, err = _cli(capsys, "--out", folder / "out")
    finally:
        folder.chmod(0o755)
    assert code == 2 and err == f"error: cannot write to {folder / 'out'}: {folder} is not writable\n"
    assert os.listdir(folder) == []


def test_cli_negative_seed(tmp_path, capsys, no_simulation):
    with pytest.raises(SystemExit) as info:
        main(["run", "--seed", "-3", "--out", str(tmp_path / "out")])
    assert info.value.code == 2
    assert "argument --seed: must be a whole number >= 0, got '-3'" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_cli_disk_full_while_writing_keeps_the_earlier_run(tmp_path, capsys, monkeypatch):
    scenario = tmp_path / "s.toml"
    Scenario(months=1).replace(arrivals=simulate.Arrivals(leads_per_month=150.0, campaigns=())).to_toml(scenario)
    out = tmp_path / "out"
    assert _cli(capsys, "--scenario", scenario, "--seed", 1, "--out", out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = []

    def to_csv_then_full(self, path, **kwargs):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(path))
        return original(self, path, **kwargs)

    original = pd.DataFrame.to_csv
    monkeypatch.setattr(pd.DataFrame, "to_csv", to_csv_then_full)
    code, err = _cli(capsys, "--scenario", scenario, "--seed", 2, "--out", out)
    assert code == 2
    assert err == f"error: [Errno 28] No space left on device: '{out / 'events.csv'}'\n"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # the old run, whole


def test_an_open_deal_may_close_after_the_as_of_date(tmp_path):
    """Not the future: CRMs keep the expected close date of an open deal in closed_at. A won
    deal closed after the as-of date is (its customer_at is)."""
    frame = pd.read_csv(export(tmp_path, rows=3), dtype=str, keep_default_na=False)
    frame["closed_at"] = ["2026-09-01", "2026-09-01", ""]
    frame["won"] = ["", "true", ""]
    history = load_history(frame, as_of="2026-04-01", on_error="reject", max_reject_share=1.0)
    assert history.leads["lead_id"].tolist() == [0, 2]
    assert history.rejects["reason"].tolist() == [
        "customer_at (2026-09-01 00:00 UTC) is after the as-of date (2026-04-01 00:00 UTC): a time in the future"
    ]
