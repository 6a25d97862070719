"""Command line: ``python -m simulate run [--scenario FILE.toml] [--seed N] --out DIR``, ``warm-up``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simulate.cli_help import HelpFormatter, add_version
from simulate.io import scenario_input, write_run_files
from simulate.output_folder import MANIFEST, check_paths, output_folder
from simulate.scenario import Scenario
from simulate.simulation import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulate",
        description="Simulate the lead funnel of a scenario and write its history.",
        formatter_class=HelpFormatter,
    )
    add_version(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    p_run = commands.add_parser(
        "run",
        formatter_class=HelpFormatter,
        help="simulate one history and write leads.csv, events.csv, summary.csv",
        description=(
            "Simulate one history of a scenario (the built-in default if --scenario is not "
            "given) and write the lead table, the behaviour events, the monthly summary and "
            "the scenario used into the output folder."
        ),
    )
    p_run.add_argument("--scenario", type=Path, help="scenario TOML file (default: built-in)")
    p_run.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    p_run.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p_run.add_argument("--no-events", action="store_true", help="do not write events.csv")
    p_default = commands.add_parser(
        "default-scenario", formatter_class=HelpFormatter, help="print the default scenario as TOML"
    )
    p_default.add_argument("--out", type=Path, help="write it to this file instead")
    p_warm = commands.add_parser(
        "warm-up",
        formatter_class=HelpFormatter,
        help="compile and cache every numba kernel once (make does it after pip install)",
        description=(
            "Run a small world end to end (simulate a quarter, recommend a threshold for it) so "
            "that every numba kernel is compiled into numba's cache: the first real run then "
            "loads them instead of spending a minute or more compiling."
        ),
    )
    p_warm.add_argument("--simulate-only", action="store_true", help="only the simulate kernels")

    args = parser.parse_args(argv)
    if args.command == "warm-up":
        from simulate.warmup import warm_up

        print(warm_up(calibrate=not args.simulate_only).summary())
        return 0
    try:
        if args.command == "default-scenario":
            if args.out is not None and args.out.is_dir():
                raise IsADirectoryError(f"cannot write to {args.out}: it is a folder; give a file name")
            text = Scenario().to_toml(args.out)
            if args.out is None:
                print(text)
            return 0
        return _run(args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args) -> int:
    """``run``: every check before the simulation, the folder written as one unit after it."""
    check_paths(inputs={"the scenario file": args.scenario}, folders={"--out": args.out})
    scenario, inputs = scenario_input(args.scenario)
    with output_folder(args.out, command="python -m simulate run", seed=args.seed, inputs=inputs) as stage:
        result = run(scenario, seed=args.seed)
        names = write_run_files(result, stage, events=not args.no_events)
    print(result.report())
    print()
    for name in [*names, MANIFEST]:
        print(f"wrote {args.out / name}")
    return 0


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return value


if __name__ == "__main__":
    sys.exit(main())
