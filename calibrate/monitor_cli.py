"""``python -m calibrate monitor CONFIG.json NEW.csv``: the monthly check on the command line.

Reads the config ``recommend`` wrote and the new export (with its events where there are
any), prints the monitor's report (``calibrate.monitor``) and, with ``--out``, writes it as
JSON; ``--plot`` saves the SLA-risk plot. Outputs never replace an input, and an existing
output is refused unless ``--overwrite`` is given. Exit code 0 for keep, 1 for re-tune.
"""

from __future__ import annotations

import json
from pathlib import Path

from simulate.cli_help import HelpFormatter
from simulate.cli_numbers import number, whole_number

__all__ = ["add_monitor_parser", "run_monitor"]

EXAMPLES = """examples:
  python -m calibrate monitor config.json leads.csv --events events.csv \\
      --as-of 2027-05-01
  python -m calibrate monitor config.json crm.csv --team-change -1 \\
      --campaign "spring webinars:2500" --out report.json --plot risk.png
"""


def add_monitor_parser(commands) -> None:
    """The ``monitor`` sub-command's options."""
    mon = commands.add_parser(
        "monitor",
        help="check a new month against the config in force: keep or re-tune",
        description=(
            "Compare the latest whole month of NEW (the leads since the config) with the\n"
            "config's training data: drift, honesty of the score, MQL volume and its\n"
            "forecast, the chance of breaking the SLA next month; keep or re-tune.\n"
            "Exit code 0: keep; 1: re-tune; 2: an error."
        ),
        epilog=EXAMPLES,
        formatter_class=HelpFormatter,
    )
    mon.add_argument("config", metavar="CONFIG", type=Path, help="config JSON written by recommend")
    mon.add_argument("history", metavar="NEW", type=Path, help="the new export CSV (one row per lead)")
    mon.add_argument("--events", type=Path, help="behaviour events CSV (lead_id, at, kind)")
    mon.add_argument("--mapping", default=None, help="column mapping: hubspot, salesforce or a mapping file")
    mon.add_argument("--timezone", default=None, help="zone of times written without an offset (default UTC)")
    mon.add_argument("--as-of", default=None, help="when the export was taken (default: its latest time)")
    mon.add_argument(
        "--team-change",
        type=int,
        default=0,
        help="reps next month beyond today's team (-1: one leaves, 2: two hires)",
    )
    mon.add_argument(
        "--campaign",
        action="append",
        default=[],
        metavar="NAME:LEADS[:SHARE]",
        help="a campaign planned next month: its extra leads (and MQL share); repeatable (default: none)",
    )
    mon.add_argument(
        "--alarm-risk",
        type=number(0, 1, low_open=True, high_open=True),
        default=None,
        help="re-tune above this chance of breaking the SLA next month (default: calibrated)",
    )
    mon.add_argument("--seed", type=whole_number(0), default=0, help="random seed (default 0)")
    mon.add_argument("--out", type=Path, help="write the report as JSON here")
    mon.add_argument("--plot", type=Path, help="save the SLA-risk plot here (PNG)")
    mon.add_argument("--overwrite", action="store_true", help="replace --out / --plot if they exist")
    mon.set_defaults(deals_key=None, deals_lead_key=None, activities_key=None, activities_lead_key=None)


def _campaign(text: str):
    from calibrate.monitor_forecast import PlannedCampaign

    parts = text.rsplit(":", 2) if text.count(":") >= 2 else text.rsplit(":", 1)
    if len(parts) < 2:
        raise ValueError(f"--campaign {text!r}: write NAME:LEADS or NAME:LEADS:SHARE")
    try:
        leads = float(parts[1])
        share = float(parts[2]) if len(parts) == 3 else None
    except ValueError:
        raise ValueError(f"--campaign {text!r}: LEADS and SHARE must be numbers") from None
    return PlannedCampaign(name=parts[0], extra_leads=leads, mql_share=share)


def _check_outputs(args) -> None:
    from simulate.output_folder import check_paths

    inputs = {"the config": args.config, "the new history": args.history, "the --events file": args.events}
    if args.mapping and Path(args.mapping).is_file():
        inputs["the mapping file"] = Path(args.mapping)
    check_paths(inputs=inputs, files={"--out": args.out, "--plot": args.plot})
    for name in ("out", "plot"):
        path = getattr(args, name)
        if path is not None and path.exists() and not args.overwrite:
            raise ValueError(f"--{name} {path} exists: choose another path or pass --overwrite")
        if path is not None and not path.parent.exists():
            raise FileNotFoundError(f"cannot write {path}: folder {path.parent} does not exist")
    for label, path in (("config", args.config), ("new history", args.history), ("events", args.events)):
        if path is not None and not path.exists():
            raise FileNotFoundError(f"{label} file {path} does not exist")


def run_monitor(args, input_mapping) -> int:
    """Run ``monitor`` for the parsed ``args``; 0 for keep, 1 for re-tune."""
    from calibrate.history import load_history
    from calibrate.monitoring import ALARM_RISK, monitor
    from simulate.atomic import write_text_atomic

    _check_outputs(args)
    campaigns = [_campaign(c) for c in args.campaign]
    history = load_history(args.history, mapping=input_mapping(args), events=args.events, as_of=args.as_of)
    report = monitor(
        args.config,
        history,
        campaigns=campaigns,
        team_change=args.team_change,
        alarm_risk=ALARM_RISK if args.alarm_risk is None else args.alarm_risk,
        seed=args.seed,
    )
    print(report.summary())
    if args.out is not None:
        write_text_atomic(args.out, json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n")
        print(f"\nwrote {args.out}")
    if args.plot is not None:
        _save_plot(report, args.plot)
        print(f"wrote {args.plot}")
    return 0 if report.decision == "keep" else 1


def _save_plot(report, path: Path) -> None:
    from calibrate.plotting import save_png

    save_png(lambda ax: report.plot(ax=ax), path)
