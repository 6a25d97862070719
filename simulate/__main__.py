"""Command line: ``python -m simulate run [--scenario FILE.toml] [--seed N] --out DIR``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simulate.io import write_run
from simulate.run import run
from simulate.scenario import Scenario


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulate",
        description="Simulate the lead funnel of a scenario and write its history.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p_run = commands.add_parser(
        "run",
        help="simulate one history and write leads.csv, events.csv, summary.csv",
        description=(
            "Simulate one history of a scenario (the built-in default if --scenario is not "
            "given) and write the lead table, the behaviour events, the monthly summary and "
            "the scenario used into the output folder."
        ),
    )
    p_run.add_argument("--scenario", type=Path, help="scenario TOML file (default: built-in)")
    p_run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p_run.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p_run.add_argument("--no-events", action="store_true", help="do not write events.csv")
    p_default = commands.add_parser("default-scenario", help="print the default scenario as TOML")
    p_default.add_argument("--out", type=Path, help="write it to this file instead")

    args = parser.parse_args(argv)
    try:
        if args.command == "default-scenario":
            text = Scenario().to_toml(args.out)
            if args.out is None:
                print(text)
            return 0
        scenario = Scenario.from_toml(args.scenario) if args.scenario else Scenario()
        result = run(scenario, seed=args.seed)
        written = write_run(result, args.out, events=not args.no_events)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(result.report())
    print()
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
