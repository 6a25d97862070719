"""Files (issue 8, items 4 and 5): atomic writes, spreadsheet-safe CSV, loading never runs
code, and the same inputs and seed give the same bytes, with provenance in every config."""

import ast
import csv
import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulate
from calibrate import load_history
from calibrate.recommendation import (
    FORMAT,
    Estimate,
    Recommendation,
    fingerprint,
    package_version,
)
from simulate import Scenario, ScoringRules
from simulate.atomic import write_all_atomic, write_atomic, write_text_atomic
from simulate.io import safe_for_spreadsheet, write_csv, write_run
from simulate.spec import SpecError

ROOT = Path(__file__).resolve().parents[1]
OLD = "lead_id,score\n1,10\n2,20\n"


@pytest.fixture(scope="module")
def small_run():
    s = Scenario(months=1)
    s = s.replace(arrivals=dataclasses.replace(s.arrivals, leads_per_month=300.0, campaigns=()))
    return simulate.run(s, seed=4)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


class Boom:
    """A cell whose text cannot be made: ``to_csv`` fails on it, halfway through a file."""

    def __str__(self) -> str:
        raise RuntimeError("disk on fire")


# --- atomic writes --------------------------------------------------------------------
@pytest.mark.parametrize("error", [RuntimeError("crash"), KeyboardInterrupt()])
def test_a_crash_mid_write_leaves_the_old_file_and_no_temp_file(tmp_path, error):
    target = tmp_path / "leads.csv"
    write_text_atomic(target, OLD)
    before = target.read_bytes()

    def half_then_crash(tmp: Path) -> None:
        tmp.write_text("lead_id,score\n1,")  # half a new file is on disk
        raise error

    with pytest.raises(type(error)):
        write_atomic(target, half_then_crash)
    assert target.read_bytes() == before
    assert _listing(tmp_path) == ["leads.csv"]


def test_write_csv_failing_halfway_through_the_rows_keeps_the_old_file(tmp_path):
    target = tmp_path / "leads.csv"
    write_text_atomic(target, OLD)
    frame = pd.DataFrame({"lead_id": range(50_000), "note": ["ok"] * 50_000}, dtype=object)
    frame.loc[40_000, "note"] = Boom()  # pandas has written many chunks by then
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_csv(frame, target, index=False)
    assert target.read_text() == OLD
    assert _listing(tmp_path) == ["leads.csv"]


def test_a_run_is_written_all_or_nothing(tmp_path, small_run):
    folder = tmp_path / "run"
    write_run(small_run, folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert set(before) == {"leads.csv", "summary.csv", "events.csv", "scenario.toml", "manifest.json"}
    events = small_run.events.assign(note=None)  # an extra column: not checked, but written
    events.loc[len(events) // 2, "note"] = Boom()  # events.csv fails after leads and summary
    broken = dataclasses.replace(small_run, events=events, seed=99)
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_run(broken, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    fresh = tmp_path / "fresh"
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_run(broken, fresh)
    assert not fresh.exists()  # the folder made for the run is removed again


def test_write_all_atomic_moves_nothing_until_every_file_is_complete(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    write_all_atomic([(a, lambda t: t.write_text("old a")), (b, lambda t: t.write_text("old b"))])

    def fail(tmp: Path) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_all_atomic([(a, lambda t: t.write_text("new a")), (b, fail)])
    assert (a.read_text(), b.read_text()) == ("old a", "old b")
    assert _listing(tmp_path) == ["a.txt", "b.txt"]


def test_a_killed_process_leaves_the_old_file(tmp_path):
    """A hard crash (no Python cleanup at all): the old file is intact; at most a hidden
    temporary file is left next to it."""
    target = tmp_path / "leads.csv"
    write_text_atomic(target, OLD)
    code = textwrap.dedent(f"""
        import os
        from simulate.atomic import write_atomic
        def half(tmp):
            with open(tmp, "w") as f:
                f.write("lead_id,score\\n1,")
                f.flush()
            os._exit(9)
        write_atomic({str(target)!r}, half)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert done.returncode == 9
    assert target.read_text() == OLD
    assert all(n == "leads.csv" or (n.startswith(".leads.csv.") and n.endswith(".tmp")) for n in _listing(tmp_path))


def test_writing_where_it_cannot_names_the_path_and_leaves_nothing(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(NotADirectoryError, match=r"cannot write .*notes\.txt.*leads\.csv: .*is a file"):
        write_text_atomic(a_file / "leads.csv", "x")
    with pytest.raises(FileNotFoundError, match=r"cannot write .*leads\.csv: folder .*nope does not exist"):
        write_text_atomic(tmp_path / "nope" / "leads.csv", "x")
    (tmp_path / "dir").mkdir()
    with pytest.raises(IsADirectoryError):
        write_text_atomic(tmp_path / "dir", "x")
    assert _listing(tmp_path) == ["dir", "notes.txt"]
    assert a_file.read_text() == "x"


def test_written_files_get_ordinary_permissions(tmp_path):
    path = write_text_atomic(tmp_path / "s.toml", "x = 1\n")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# --- spreadsheet-safe CSV -------------------------------------------------------------
def test_csv_escapes_text_that_a_spreadsheet_would_run(tmp_path):
    frame = pd.DataFrame(
        {
            "name": [
                '=HYPERLINK("http://x")',
                "+1+cmd|' /C calc'!A0",
                "-2+3",
                "@SUM(A1:A9)",
                "\t=1+1",
                "\r=1+1",
                "plain",
                "a=b",
                None,
            ],
            "negative": [-1, -2, -3, -4, -5, -6, -7, -8, -9],
            "fraction": [-0.5, 1.5, -2.5, 0.0, np.nan, 1e-9, -1e9, 2.0, 3.0],
            "number_as_text": ["-3.5", "+4", "-1e5", "5", "-.5", "-", "-x", "6", "7"],
            "category": pd.Categorical(["=a", "b", "=a", "b", "b", "b", "b", "b", "b"]),
            "string": pd.array(["-cmd", "ok", None, "ok", "ok", "ok", "ok", "ok", "ok"], dtype="string"),
            "flag": [True, False] * 4 + [True],
            "=evil header": range(9),
        }
    )
    path = write_csv(frame, tmp_path / "out.csv", index=False)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    cols = {name: [r[j] for r in body] for j, name in enumerate(header)}
    assert "'=evil header" in header and "=evil header" not in header
    assert cols["name"] == [
        '\'=HYPERLINK("http://x")',
        "'+1+cmd|' /C calc'!A0",
        "'-2+3",
        "'@SUM(A1:A9)",
        "'\t=1+1",
        "'\r=1+1",
        "plain",
        "a=b",
        "",
    ]
    assert cols["negative"] == [str(v) for v in range(-1, -10, -1)]  # numbers stay numbers
    assert pd.read_csv(path)["fraction"].equals(frame["fraction"])
    # text that is a plain number is harmless; other text starting with - is escaped
    assert cols["number_as_text"] == ["-3.5", "+4", "-1e5", "5", "-.5", "'-", "'-x", "6", "7"]
    assert cols["category"][:2] == ["'=a", "b"] and cols["string"][:3] == ["'-cmd", "ok", ""]
    assert cols["flag"][:2] == ["True", "False"]
    for column in header:
        for cell in cols[column]:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")) or cell.lstrip("+").replace(".", "").isdigit()
    assert frame.loc[0, "name"].startswith("=")  # the caller's frame is not changed


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=5))
def test_escaping_is_exactly_one_quote_in_front_of_risky_text(cells):
    frame = pd.DataFrame({"text": pd.Series(cells, dtype=object)})
    out = safe_for_spreadsheet(frame)["text"].tolist()
    for before, after in zip(cells, out, strict=True):
        if after != before:
            assert after == "'" + before
            assert before[:1] in ("=", "+", "-", "@", "\t", "\r")
        else:
            assert not before.startswith(("=", "@", "\t", "\r"))
            if before.startswith(("+", "-")):
                float(before)  # only a plain number keeps its sign unescaped


def test_the_lead_table_written_by_a_run_is_escaped(tmp_path, small_run):
    leads = small_run.leads.copy()
    leads["campaign"] = leads["campaign"].astype("object")
    leads.loc[0, "campaign"] = '=WEBSERVICE("http://evil")'
    write_csv(leads, tmp_path / "leads.csv", index=False)
    back = pd.read_csv(tmp_path / "leads.csv", dtype=str, keep_default_na=False)
    assert back.loc[0, "campaign"] == '\'=WEBSERVICE("http://evil")'
    assert back["page_views"].tolist() == leads["page_views"].astype(str).tolist()


# --- loading never runs code ----------------------------------------------------------
PAYLOADS = [
    "!!python/object/apply:os.system ['touch {marker}']",
    "__import__('os').system('touch {marker}')",
    "{{{{ ''.__class__.__mro__[1].__subclasses__() }}}}",
    "=cmd|' /C touch {marker}'!A0",
]


def test_loading_a_scenario_treats_code_as_plain_text(tmp_path):
    marker = tmp_path / "PWNED"
    payloads = [p.format(marker=marker) for p in PAYLOADS]
    s = Scenario(months=1).replace(name=payloads[0], description=payloads[1])
    path = tmp_path / "s.toml"
    path.write_text(s.to_toml())
    back = Scenario.from_toml(path)
    assert (back.name, back.description) == (payloads[0], payloads[1])
    assert Scenario.from_toml(f"name = {json.dumps(payloads[2])}\n").name == payloads[2]
    with pytest.raises(SpecError, match=r"scenario TOML: __import__\('os'\).*: unknown key"):
        Scenario.from_toml(f"{json.dumps(payloads[1])} = 1\n")  # a key is a name, checked
    assert not marker.exists()


def test_loading_rules_and_recommendations_treats_code_as_plain_text(tmp_path):
    marker = tmp_path / "PWNED"
    code = PAYLOADS[1].format(marker=marker)
    rules = ScoringRules(fit={"job_level": {code: 5}}, mql_threshold=10)
    assert ScoringRules.from_json(rules.to_json()).fit["job_level"] == {code: 5}
    with pytest.raises(SpecError, match=r"__import__.*: unknown key"):
        ScoringRules.from_json(json.dumps({code: 1}))
    rec = _recommendation(history={"leads": 300, "first_created": PAYLOADS[0].format(marker=marker)})
    assert Recommendation.from_json(rec.to_json()).history == rec.history
    frame = pd.DataFrame(
        {
            "lead_id": [1],
            "created_at": ["2026-01-01"],
            "source": [code],
            "lead_type": ["new_business"],
            "Note": [PAYLOADS[3]],
        }
    )
    history = load_history(frame)
    assert history.leads.loc[0, "source"] == code and history.leads.loc[0, "Note"] == PAYLOADS[3]
    assert not marker.exists()


def test_no_loader_can_run_code():
    """No pickle, marshal, shelve or YAML, and no eval, exec or __import__ in either package."""
    banned_modules = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "yaml", "joblib"}
    banned_calls = {"eval", "exec", "__import__", "compile"}
    found = []
    for path in [*ROOT.joinpath("simulate").glob("*.py"), *ROOT.joinpath("calibrate").glob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module.split(".")[0]]
            found += [f"{path.name}: import {n}" for n in names if n in banned_modules]
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in banned_calls:
                    found.append(f"{path.name}:{node.lineno}: {node.func.id}()")
            if isinstance(node, ast.Attribute) and node.attr in ("read_pickle", "load", "loads"):
                base = node.value
                if isinstance(base, ast.Name) and base.id in banned_modules | {"pd", "np"}:
                    if not (base.id == "np" and node.attr == "load"):
                        found.append(f"{path.name}:{node.lineno}: {base.id}.{node.attr}")
    assert found == []


# --- reproducibility ------------------------------------------------------------------
def test_same_seed_gives_the_same_tables_and_the_same_bytes(tmp_path, small_run):
    again = simulate.run(small_run.scenario, seed=small_run.seed)
    pd.testing.assert_frame_equal(again.leads, small_run.leads)
    pd.testing.assert_frame_equal(again.events, small_run.events)
    first = write_run(small_run, tmp_path / "a")
    second = write_run(again, tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    other = simulate.run(small_run.scenario, seed=small_run.seed + 1)
    write_run(other, tmp_path / "c")
    assert (tmp_path / "c" / "leads.csv").read_bytes() != first[0].read_bytes()


def test_the_same_file_loads_to_the_same_fingerprint(tmp_path, small_run):
    write_csv(small_run.leads, tmp_path / "leads.csv", index=False)
    a = load_history(tmp_path / "leads.csv")
    b = load_history(tmp_path / "leads.csv")
    assert fingerprint(a.leads) == fingerprint(b.leads)
    pd.testing.assert_frame_equal(a.leads, b.leads)


@pytest.fixture(scope="module")
def loaded(small_run, tmp_path_factory):
    path = tmp_path_factory.mktemp("fp") / "leads.csv"
    write_csv(small_run.leads, path, index=False)
    return load_history(path).leads


def test_fingerprint_is_stable_when_nothing_changes(loaded):
    fp = fingerprint(loaded)
    assert fp.startswith("sha256:") and len(fp) == 7 + 64
    assert fingerprint(loaded.copy()) == fp
    assert fingerprint(loaded.copy(deep=True)) == fingerprint(loaded) == fp


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_fingerprint_changes_when_one_cell_changes(loaded, data):
    columns = [
        "lead_id",
        "created_at",
        "source",
        "company_size",
        "page_views",
        "score",
        "mql_at",
        "won",
        "amount",
        "job_level",
    ]
    column = data.draw(st.sampled_from(columns))
    row = data.draw(st.integers(0, len(loaded) - 1))
    changed = loaded.copy()
    s = changed[column]
    old = s.iloc[row]
    if column == "lead_id":
        new = int(s.max()) + 1
    elif isinstance(s.dtype, pd.DatetimeTZDtype):
        new = (old if not pd.isna(old) else loaded["created_at"].iloc[row]) + pd.Timedelta(seconds=1)
    elif isinstance(s.dtype, pd.CategoricalDtype):
        others = [c for c in s.cat.categories if c != old]
        new = others[0] if others else None
        if new is None:
            changed[column] = s.cat.add_categories(["zz"])
            new = "zz"
    elif pd.api.types.is_bool_dtype(s.dtype):
        new = not bool(old) if not pd.isna(old) else True
    else:
        new = (0 if pd.isna(old) else old) + 1
    changed.loc[row, column] = new
    assert fingerprint(changed) != fingerprint(loaded), (column, row, old, new)


def test_fingerprint_sees_order_and_column_names(loaded):
    assert fingerprint(loaded.iloc[::-1]) != fingerprint(loaded)
    assert fingerprint(loaded.rename(columns={"score": "old_score"})) != fingerprint(loaded)
    assert fingerprint(loaded.iloc[:-1]) != fingerprint(loaded)


def _recommendation(**changes) -> Recommendation:
    base = dict(
        rules=simulate.scenario.default_rules(),
        threshold=60.0,
        objective="revenue",
        constraints={"reps": 4, "sla_hours": 8.0, "sla_clock": "business", "sla_target": 0.9},
        expected={"mqls_per_month": Estimate(120.0, 100.0, 140.0), "sla_compliance": Estimate(0.93)},
        seed=7,
        data_fingerprint="sha256:" + "ab" * 32,
        history={"leads": 300},
    )
    return Recommendation(**{**base, **changes})


def test_a_written_config_records_version_seed_and_fingerprint(tmp_path, loaded):
    rec = _recommendation(seed=1234, data_fingerprint=fingerprint(loaded))
    path = tmp_path / "config.json"
    text = rec.to_json(path)
    assert path.read_text() == text + "\n"
    data = json.loads(path.read_text())
    assert data["format"] == FORMAT
    assert data["package_version"] == package_version() == metadata.version("leadfunnel")
    assert data["seed"] == 1234
    assert data["data_fingerprint"] == fingerprint(loaded)
    back = Recommendation.from_json(path)
    assert (back.seed, back.data_fingerprint, back.package_version) == (1234, fingerprint(loaded), package_version())
    assert back.rules == rec.rules and back.threshold == rec.threshold
    assert back.to_json() == text  # the same config writes the same bytes
