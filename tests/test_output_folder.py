"""Never lose the user's data (issue 15, items 1 and 2): no output is an input or another
output, and an output folder is written as one unit (staged, locked, with a manifest,
moved into place), with the leftovers of killed runs cleaned up by the next run."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import simulate
from calibrate.__main__ import main as calibrate_main
from simulate.__main__ import main as simulate_main
from simulate.atomic import remove_stale_temporaries, write_text_atomic
from simulate.output_folder import (
    MANIFEST,
    OutputFolderError,
    check_paths,
    file_fingerprint,
    output_folder,
)

SMALL = "months = 1\n[arrivals]\nleads_per_month = 150.0\ncampaigns = []\n"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _run(capsys, *args) -> tuple[int, str]:
    code = simulate_main(["run", *map(str, args)])
    return code, capsys.readouterr().err


@pytest.fixture
def scenario(tmp_path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


# --- item 1: outputs are never inputs ------------------------------------------------
@pytest.fixture
def no_work(monkeypatch):
    """Fail if a command reads its history or simulates before checking its paths."""

    def refuse(*args, **kwargs):
        raise AssertionError("the command did work before checking its paths")

    monkeypatch.setattr("calibrate.history.load_history", refuse)
    monkeypatch.setattr("simulate.__main__.run", refuse)
    monkeypatch.setattr("simulate.run", refuse)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["{h}", "--out", "{h}"], r"--out .*h\.csv is the history: writing it would replace your input"),
        (["{h}", "--out", "{d}/c.json", "--plot", "{h}"], r"--plot .*h\.csv is the history"),
        (["{h}", "--out", "{d}/c.json", "--plot", "{d}/c.json"], r"--out and --plot are the same file"),
        (["{h}", "--out", "{d}/s.toml", "--scenario", "{d}/s.toml"], r"--out .*s\.toml is the scenario file"),
        (["{h}", "--out", "{d}/e.csv", "--events", "{d}/e.csv"], r"--out .*e\.csv is the --events file"),
        (["{h}", "--out", "{d}/./h.csv"], r"is the history"),  # another spelling of the same path
    ],
    ids=[
        "out is the history",
        "plot is the history",
        "plot is out",
        "out is the scenario",
        "out is the events",
        "another spelling",
    ],
)
def test_recommend_refuses_an_output_that_is_an_input(tmp_path, capsys, no_work, args, match):
    history = tmp_path / "h.csv"
    history.write_text("lead_id,created_at\n1,2026-01-01\n")
    (tmp_path / "s.toml").write_text(SMALL)
    (tmp_path / "e.csv").write_text("lead_id,at,kind\n")
    before = _files(tmp_path)
    argv = ["recommend", *(a.format(h=history, d=tmp_path) for a in args)]
    assert calibrate_main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert __import__("re").search(match, err), err
    assert _files(tmp_path) == before  # nothing read, nothing written


def test_a_hard_link_to_the_input_is_the_input(tmp_path):
    history = tmp_path / "h.csv"
    history.write_text("x")
    os.link(history, tmp_path / "link.csv")
    with pytest.raises(ValueError, match=r"link\.csv is the history"):
        check_paths(inputs={"the history": history}, files={"--out": tmp_path / "link.csv"})


@pytest.mark.parametrize("command", ["simulate run", "calibrate demo"])
def test_a_scenario_inside_the_output_folder_is_refused(tmp_path, capsys, no_work, command):
    out = tmp_path / "o"
    out.mkdir()
    (out / "scenario.toml").write_text("# my own notes\n" + SMALL)
    before = _files(out)
    argv = ["--scenario", str(out / "scenario.toml"), "--out", str(out)]
    code = simulate_main(["run", *argv]) if command == "simulate run" else calibrate_main(["demo", *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert "is inside the output folder --out" in err and err.count("\n") == 1
    assert _files(out) == before  # the user's TOML and its comments are intact


# --- item 2: one unit -------------------------------------------------------------------
def test_a_run_writes_a_manifest_and_a_rerun_replaces_the_folder(tmp_path, capsys, scenario):
    out = tmp_path / "out"
    assert _run(capsys, "--scenario", scenario, "--seed", 1, "--out", out)[0] == 0
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["seed"] == 1 and manifest["command"] == "python -m simulate run"
    assert manifest["inputs"] == {str(scenario): file_fingerprint(scenario)}
    assert manifest["package_version"] == simulate.output_folder.package_version()
    assert set(manifest["files"]) == {"leads.csv", "events.csv", "summary.csv", "scenario.toml"}
    for name, digest in manifest["files"].items():
        assert file_fingerprint(out / name) == digest
    assert _run(capsys, "--scenario", scenario, "--seed", 2, "--out", out, "--no-events")[0] == 0
    # one run's files only: no events.csv of seed 1 beside the tables of seed 2
    assert sorted(_files(out)) == ["leads.csv", "manifest.json", "scenario.toml", "summary.csv"]
    assert json.loads((out / MANIFEST).read_text())["seed"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "small.toml"]  # no staging, no lock left


@pytest.mark.parametrize("kind", ["a file of the user's", "an output changed by the user", "a folder without manifest"])
def test_a_folder_with_the_users_files_is_refused_and_left_alone(tmp_path, capsys, scenario, kind):
    out = tmp_path / "out"
    if kind == "a folder without manifest":
        out.mkdir()
        (out / "leads.csv").write_text("mine")
    else:
        assert _run(capsys, "--scenario", scenario, "--out", out)[0] == 0
        if kind == "a file of the user's":
            (out / "notes.txt").write_text("mine")
        else:
            (out / "scenario.toml").write_text("# edited by hand\n" + SMALL)
    before = _files(out)
    code, err = _run(capsys, "--scenario", scenario, "--seed", 5, "--out", out)
    assert code == 2
    assert "holds files that are not the outputs of an earlier run" in err and err.count("\n") == 1
    assert _files(out) == before


def test_an_empty_existing_folder_is_fine(tmp_path, capsys, scenario):
    (tmp_path / "out").mkdir()
    assert _run(capsys, "--scenario", scenario, "--out", tmp_path / "out")[0] == 0


def test_a_second_writer_gets_a_clear_error_not_a_mixed_folder(tmp_path):
    out = tmp_path / "out"
    with output_folder(out, command="first") as stage:
        (stage / "a.txt").write_text("first")
        with pytest.raises(OutputFolderError, match=r"another run \(process \d+\) is writing to it"):
            with output_folder(out, command="second"):
                raise AssertionError("the second writer got in")
    assert _files(out).keys() == {"a.txt", MANIFEST}


def test_a_failed_run_leaves_the_old_folder_and_nothing_else(tmp_path):
    out = tmp_path / "out"
    with output_folder(out, command="first", seed=1) as stage:
        (stage / "a.txt").write_text("old")
    before = _files(out)
    with pytest.raises(RuntimeError, match="boom"):
        with output_folder(out, command="second", seed=2) as stage:
            (stage / "a.txt").write_text("new")
            (stage / "b.txt").write_text("new")
            raise RuntimeError("boom")
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    with pytest.raises(RuntimeError):
        with output_folder(tmp_path / "new" / "deeper", command="x"):
            raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # folders made for it removed


KILLED = """
import os, sys
from simulate.output_folder import output_folder
with output_folder(sys.argv[1], command="killed", seed=9) as stage:
    with open(stage / "leads.csv", "w") as f:
        f.write("half a file")
    os._exit(9)
"""


def test_a_killed_run_leaves_the_old_folder_and_the_next_run_cleans_up(tmp_path):
    out = tmp_path / "out"
    with output_folder(out, command="first", seed=1) as stage:
        (stage / "leads.csv").write_text("old")
    before = _files(out)
    done = subprocess.run([sys.executable, "-c", KILLED, str(out)], capture_output=True, timeout=120)
    assert done.returncode == 9
    assert _files(out) == before  # the old run, whole
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != "out")
    assert any(".staging-" in n for n in left)  # the killed run's staging folder (and lock file)
    with output_folder(out, command="next", seed=2) as stage:  # not blocked: the OS released the lock
        (stage / "leads.csv").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (out / "leads.csv").read_text() == "new"


def test_a_run_killed_between_its_two_renames_gets_its_old_folder_back(tmp_path):
    out = tmp_path / "out"
    with output_folder(out, command="first") as stage:
        (stage / "a.txt").write_text("old")
    aside = tmp_path / ".out.old-123-abc"
    out.rename(aside)  # what a kill between the renames leaves
    with pytest.raises(RuntimeError):
        with output_folder(out, command="second"):
            raise RuntimeError("a failing run after the kill")
    assert (out / "a.txt").read_text() == "old" and not aside.exists()


def test_a_killed_single_file_write_leaves_a_temporary_file_that_the_next_write_removes(tmp_path):
    target = tmp_path / "config.json"
    code = textwrap.dedent(f"""
        import os
        from simulate.atomic import write_atomic
        def half(tmp):
            tmp.write_text("{{")
            os._exit(9)
        write_atomic({str(target)!r}, half)
    """)
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60).returncode == 9
    assert len(list(tmp_path.glob(".config.json.*.tmp"))) == 1
    (tmp_path / ".config.json.notes.tmp").write_text("not ours: no process id")
    write_text_atomic(target, "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".config.json.notes.tmp", "config.json"]
    mine = tmp_path / f".config.json.{os.getpid()}.x.tmp"
    mine.write_text("a live process's file")
    assert remove_stale_temporaries(target) == [] and mine.exists()


# --- the demo's folder is one unit, and its numbers are checked first --------------------
@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["demo", "--verify-seeds", "0"], r"argument --verify-seeds: must be a whole number in \[1, 1000\], got '0'"),
        (["demo", "--seed", "-1"], r"argument --seed: must be a whole number >= 0, got '-1'"),
        (
            ["recommend", "h.csv", "--out", "c.json", "--sla-hours", "inf"],
            r"--sla-hours: must be a finite number in \(0, 8760\]",
        ),
        (
            ["recommend", "h.csv", "--out", "c.json", "--target", "nan"],
            r"--target: must be a finite number in \(0, 1e\+15\]",
        ),
        (["recommend", "h.csv", "--out", "c.json", "--target", "-5"], r"--target: must be a finite number"),
        (
            ["recommend", "h.csv", "--out", "c.json", "--reps", "1000000"],
            r"--reps: must be a whole number in \[1, 1000\]",
        ),
        (
            ["recommend", "h.csv", "--out", "c.json", "--sla-target", "1.5"],
            r"--sla-target: must be a finite number in \[0, 1\]",
        ),
        (
            ["recommend", "h.csv", "--out", "c.json", "--sla-confidence", "1"],
            r"--sla-confidence: must be a finite number in \(0, 1\)",
        ),
        (
            ["recommend", "h.csv", "--out", "c.json", "--horizon-days", "0"],
            r"--horizon-days: must be a finite number in \(0, 3650\]",
        ),
    ],
)
def test_number_options_out_of_range_are_refused_by_name(tmp_path, capsys, argv, match):
    with pytest.raises(SystemExit) as info:
        calibrate_main([a if not a.endswith((".csv", ".json")) else str(tmp_path / a) for a in argv])
    assert info.value.code == 2
    assert __import__("re").search(match, capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--target", "100"], r"--target is used only with --objective volume or pipeline, not with revenue"),
        (["--objective", "volume"], r"--objective volume needs --target"),
    ],
)
def test_objective_and_target_go_together(tmp_path, capsys, no_work, extra, match):
    (tmp_path / "h.csv").write_text("lead_id\n1\n")
    code = calibrate_main(["recommend", str(tmp_path / "h.csv"), "--out", str(tmp_path / "c.json"), *extra])
    assert code == 2 and __import__("re").search(match, capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.csv"]


def test_a_killed_demo_leaves_no_mix(tmp_path, capsys, monkeypatch, scenario):
    """Killed (here: failing) after the history was simulated: the folder keeps the earlier run."""
    out = tmp_path / "out"
    assert _run(capsys, "--scenario", scenario, "--out", out)[0] == 0
    before = _files(out)

    def fail(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("calibrate.threshold.recommend", fail)
    assert calibrate_main(["demo", "--scenario", str(scenario), "--out", str(out)]) == 2
    assert "No space left on device" in capsys.readouterr().err
    assert _files(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "small.toml"]
