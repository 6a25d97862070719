"""The command lines: ``--version`` from the package metadata, help wrapped at 80 columns
with every option's default shown, and the demo's lines within 80 columns."""

import argparse
import subprocess
import sys
from importlib import metadata

import pytest

from calibrate.__main__ import _parser as calibrate_parser
from calibrate.__main__ import main as calibrate_main
from simulate.__main__ import main as simulate_main

COMMANDS = {"calibrate": ["recommend", "demo", "report", "compare"], "simulate": ["run", "default-scenario", "warm-up"]}


@pytest.mark.parametrize("package", ["calibrate", "simulate"])
def test_version_comes_from_the_package_metadata(package):
    done = subprocess.run([sys.executable, "-m", package, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(metadata.version("leadfunnel"))
    assert done.stdout.startswith(f"python -m {package}")


def _help(main, argv, capsys) -> str:
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("package, command", [(p, c) for p, cs in COMMANDS.items() for c in [None, *cs]])
def test_help_fits_80_columns(package, command, capsys):
    main = calibrate_main if package == "calibrate" else simulate_main
    text = _help(main, [command] if command else [], capsys)
    too_long = [line for line in text.splitlines() if len(line) > 80]
    assert not too_long, too_long


def test_every_option_with_a_default_shows_it(capsys):
    parser = calibrate_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        text = " ".join(_help(calibrate_main, [name], capsys).split())
        for action in sub._actions:
            if not action.option_strings or action.default in (None, False, argparse.SUPPRESS):
                continue
            help_text = " ".join(action.help.split())
            shown = f"{help_text} (default: {action.default})" if "default" not in help_text else help_text
            assert shown in text, (name, action.option_strings, shown)
            assert "default" in shown


def test_the_description_is_wrapped(capsys):
    text = _help(calibrate_main, ["recommend"], capsys)
    assert "Read HISTORY (one row per lead" in text
    assert max(len(line) for line in text.split("options:")[0].splitlines()) <= 80


def test_the_simulated_years_report_fits_80_columns(small_scenario):
    import simulate

    text = simulate.run(small_scenario, seed=0).report()
    too_long = [line for line in text.splitlines() if len(line) > 80]
    assert not too_long, too_long
    assert "calendar hours" in text  # the response columns say their clock


def test_a_warning_on_the_command_line_is_folded_at_80_columns():
    import warnings

    from calibrate.__main__ import _warning_text

    text = _warning_text(UserWarning("word " * 60), UserWarning, "x.py", 1)
    assert text.startswith("UserWarning: word") and max(map(len, text.splitlines())) <= 80
    before = warnings.formatwarning
    calibrate_main(["compare", "missing-a.json", "missing-b.json"])
    assert warnings.formatwarning is before  # restored after the command
