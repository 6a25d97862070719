"""Command line: ``python -m calibrate recommend HISTORY.csv ...``, ``monitor`` and ``demo``.

``recommend`` reads a history (a CRM export or a simulated ``leads.csv``), fits the points,
weighs every threshold against the team's SLA and writes the recommended config as JSON.
``demo`` runs the whole loop on the built-in default scenario: simulate a year, fit,
recommend, verify in simulation, write the config and the plots, print the summary.
``monitor`` checks a new month against the config in force (``calibrate.monitor_cli``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import warnings
from pathlib import Path

from calibrate.capacity import HORIZON_DAYS, SLA_CONFIDENCE
from simulate.bounds import MAX_DAYS, MAX_REPS, MAX_SLA_HOURS
from simulate.cli_help import HelpFormatter, add_version
from simulate.cli_numbers import number, whole_number

EPILOG = """examples:
  python -m calibrate recommend out/leads.csv --reps 4 --sla-hours 8 \\
      --sla-target 0.9 --out config.json
  python -m calibrate recommend hubspot.csv --mapping hubspot \\
      --timezone Europe/Berlin --reps 6 --sla-hours 24 --sla-clock calendar \\
      --objective pipeline --target 100000 --out config.json
  python -m calibrate report config.json --out report.html
  python -m calibrate compare old.json config.json
  python -m calibrate monitor config.json leads.csv --events events.csv
  python -m calibrate demo --out out/
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m calibrate",
        description="Fit MQL scoring points and recommend the threshold your sales team can serve.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    add_version(parser)
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser(
        "recommend",
        formatter_class=HelpFormatter,
        help="recommend points and a threshold from a history CSV",
        description=(
            "Read HISTORY (one row per lead: created date, source, fit attributes, behaviour "
            "counts, MQL / first touch / won dates), fit integer points to what was won, weigh "
            "every threshold against the team and its SLA, and write the recommended config."
        ),
        epilog=EPILOG,
    )
    rec.add_argument("history", type=Path, help="history CSV (a CRM export or a simulated leads.csv)")
    rec.add_argument(
        "--mapping",
        default=None,
        help="column mapping: hubspot, salesforce, or a mapping file (.toml/.json) (default: lead-table names)",
    )
    rec.add_argument(
        "--timezone", default=None, help="zone of times written without an offset (default UTC, or the mapping file's)"
    )
    rec.add_argument("--deals", type=Path, help="deals / opportunities export CSV, joined to the leads")
    rec.add_argument("--activities", type=Path, help="activities / engagements / tasks export CSV, joined to the leads")
    for table in ("deals", "activities"):
        rec.add_argument(f"--{table}-key", help=f"column of the {table} CSV that names the lead (or its own id)")
        rec.add_argument(f"--{table}-lead-key", help=f"column of the history CSV that --{table}-key matches")
    rec.add_argument(
        "--events",
        type=Path,
        help="behaviour events CSV (lead_id, at, kind): counts are then taken at the MQL moment",
    )
    rec.add_argument(
        "--counts-at",
        choices=("end", "decision"),
        default="end",
        help="without --events: the export's counts are end totals (default) or MQL-moment snapshots",
    )
    rec.add_argument(
        "--scenario",
        type=Path,
        help="scenario TOML whose team, SLA and funnel to use (default: the world fitted to the history)",
    )
    rec.add_argument(
        "--reps", type=whole_number(1, MAX_REPS), help="number of reps (default: the reps seen in the history)"
    )
    rec.add_argument(
        "--sla-hours",
        type=number(0, MAX_SLA_HOURS, low_open=True),
        help="first touch within this many hours (default 8)",
    )
    rec.add_argument(
        "--sla-clock",
        choices=("business", "calendar"),
        help="count business or calendar hours (default: the fitted world's, business)",
    )
    rec.add_argument("--sla-target", type=number(0, 1), help="share of MQLs that must meet the SLA (default 0.9)")
    rec.add_argument(
        "--sla-confidence",
        type=number(0, 1, low_open=True, high_open=True),
        default=SLA_CONFIDENCE,
        help=f"chance that a new year meets the SLA target (default {SLA_CONFIDENCE:g})",
    )
    rec.add_argument(
        "--objective",
        default="revenue",
        choices=("revenue", "wins", "sqls", "volume", "pipeline"),
        metavar="OBJECTIVE",
        help="what to maximise or reach: revenue, wins, sqls, volume or pipeline (default revenue)",
    )
    rec.add_argument(
        "--target", type=number(0, 1e15, low_open=True), help="MQLs a month (volume) or pipeline a month (pipeline)"
    )
    rec.add_argument(
        "--horizon-days",
        type=number(0, MAX_DAYS, low_open=True),
        default=HORIZON_DAYS,
        help="a win counts within this many days of the MQL",
    )
    rec.add_argument(
        "--replay-seeds",
        type=whole_number(0, 1000),
        default=10,
        help="replayed years that check the fitted world against the history (default 10; 0: none)",
    )
    rec.add_argument(
        "--verify-seeds",
        type=whole_number(0, 1000),
        default=10,
        help="new years of the fitted world for the paired check against the current rules (default 10; 0: none)",
    )
    rec.add_argument(
        "--routing",
        default="keep",
        choices=("keep", "choose"),
        help="keep the team's queue policy, or choose the best of six by a paired tournament (default keep)",
    )
    rec.add_argument("--currency", default="USD", type=_currency_code, help="ISO code of the deal amounts")
    rec.add_argument("--seed", type=whole_number(0), default=0, help="random seed (default 0)")
    rec.add_argument("--out", type=Path, required=True, help="where to write the config JSON")
    rec.add_argument("--plot", type=Path, help="also save the frontier plot here (PNG)")

    from calibrate.monitor_cli import add_monitor_parser

    add_monitor_parser(commands)
    demo = commands.add_parser(
        "demo",
        formatter_class=HelpFormatter,
        help="the whole loop on the default scenario",
        description=(
            "Simulate a year of the default scenario, fit points to it, recommend a threshold "
            "for its team and SLA, verify the recommendation in simulation, and write the "
            "history, the config and the plots into --out."
        ),
    )
    demo.add_argument("--scenario", type=Path, help="scenario TOML (default: built-in)")
    demo.add_argument("--seed", type=whole_number(0), default=0, help="random seed (default 0)")
    demo.add_argument("--verify-seeds", type=whole_number(1, 1000), default=5, help="simulated years for the check")
    demo.add_argument("--out", type=Path, default=Path("out"), help="output folder (default out/)")
    report = commands.add_parser(
        "report",
        formatter_class=HelpFormatter,
        help="write the one-page sign-off report (HTML) of a saved config",
        description=(
            "Read CONFIG (a recommendation JSON written by recommend) and write the sign-off "
            "report: one self-contained HTML page that prints on two A4 pages."
        ),
    )
    report.add_argument("config", type=Path, help="recommendation config JSON")
    report.add_argument("--out", type=Path, default=Path("report.html"), help="where to write the HTML")
    report.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    compare = commands.add_parser(
        "compare",
        formatter_class=HelpFormatter,
        help="print what changed between two saved configs",
        description="Print the points per rule, the threshold and the expected figures that differ from A to B.",
    )
    compare.add_argument("a", type=Path, help="config JSON A (the old one)")
    compare.add_argument("b", type=Path, help="config JSON B (the new one)")
    compare.add_argument("--plot", type=Path, help="also save the points' changes here (PNG; refuses to overwrite)")
    return parser


def _compare(args) -> int:
    from calibrate.comparison import compare, comparison_text, plot_comparison

    if args.plot is not None and args.plot.exists():
        raise FileExistsError(f"{args.plot}: already exists; choose another --plot path")
    table = compare(args.a, args.b)
    print(comparison_text(table))
    if args.plot is not None:
        ax = plot_comparison(table)
        ax.figure.savefig(args.plot, dpi=110, bbox_inches="tight")
        print(f"wrote {args.plot}")
    return 0


def _currency_code(text: str) -> str:
    if not (len(text) == 3 and text.isalpha() and text.isupper()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a three-letter ISO currency code such as USD or EUR")
    return text


def _report(args) -> int:
    from calibrate.recommendation import Recommendation

    rec = Recommendation.from_json(args.config)
    path = rec.report(args.out, overwrite=args.overwrite)
    print(f"wrote {path}")
    return 0


def _sla_changes(args) -> dict:
    return {
        k: v
        for k, v in (("hours", args.sla_hours), ("clock", args.sla_clock), ("target", args.sla_target))
        if v is not None
    }


def _sales_side(args):
    """The capacity of ``--scenario`` (with ``--reps`` and the SLA options), or ``None``:
    then the world fitted to the history supplies the team and the funnel."""
    import simulate
    from calibrate.capacity import SalesCapacity

    if not args.scenario:
        return None
    capacity = SalesCapacity.from_scenario(simulate.Scenario.from_toml(args.scenario))
    if args.reps is not None:
        capacity = capacity.with_reps(args.reps)
    changes = _sla_changes(args)
    if changes:
        capacity = capacity.replace(sla=dataclasses.replace(capacity.sla, **changes))
    return capacity


def _fitted_world(args, history, capacity):
    """The world fitted to the history, with ``--reps`` and the SLA options; its replay of
    the history is printed (``--replay-seeds``)."""
    from calibrate.replayed import replay
    from calibrate.world import fit_world

    sla = capacity.sla if capacity is not None else None
    world = fit_world(history, sla=sla, horizon_days=args.horizon_days, seed=args.seed)
    if capacity is None:
        if args.reps is not None:
            world = world.replace(team=world.scenario.team.with_size(args.reps))
        world = world.with_sla(**_sla_changes(args))
    if args.replay_seeds > 0:
        shown = replay(history, world, seeds=max(2, args.replay_seeds), seed=args.seed + 2000)
        print(shown.summary())
        if shown.flags:
            print(f"caution: the fitted world does not reproduce: {', '.join(shown.flags)}")
        print()
    return world


def _recommend(args) -> int:
    from calibrate.history import load_history
    from calibrate.threshold import recommend

    _check_recommend_paths(args)
    if args.target is not None and args.objective not in ("volume", "pipeline"):
        raise ValueError(f"--target is used only with --objective volume or pipeline, not with {args.objective}")
    if args.target is None and args.objective in ("volume", "pipeline"):
        raise ValueError(f"--objective {args.objective} needs --target (MQLs a month or pipeline a month)")
    if not args.history.exists():
        raise FileNotFoundError(f"history file {args.history} does not exist")
    if not args.out.parent.exists():
        raise FileNotFoundError(f"cannot write {args.out}: folder {args.out.parent} does not exist")
    capacity = _sales_side(args)
    from calibrate.rejects import rejects_path, summarise_rejects, write_rejects

    mapping = _input_mapping(args)
    for name in ("events", "deals", "activities"):
        if getattr(args, name) is not None and not getattr(args, name).exists():
            raise FileNotFoundError(f"{name} file {getattr(args, name)} does not exist")
    history = load_history(
        args.history,
        mapping=mapping,
        events=args.events,
        counts_at=args.counts_at,
        deals=args.deals,
        activities=args.activities,
    )
    print(f"{args.history}: {history.shape.reason}")
    print(summarise_rejects(history))
    world = _fitted_world(args, history, capacity)
    rec = recommend(
        history,
        capacity,
        world=world,
        objective=args.objective,
        target=args.target,
        horizon_days=args.horizon_days,
        sla_confidence=args.sla_confidence,
        currency=args.currency,
        routing=args.routing,
        seed=args.seed,
    )
    if args.verify_seeds > 0:
        from calibrate.verification import verify

        rec = rec.with_verification(verify(rec, seeds=args.verify_seeds, seed=args.seed + 1000))
    rec.to_json(args.out)
    print(rec.summary())
    print(f"\nwrote {args.out}")
    if len(history.rejects):
        inputs = (args.history, args.events, args.deals, args.activities)
        print(f"wrote {write_rejects(history, rejects_path(args.out), inputs=inputs)} (the rows not used)")
    if args.plot:
        _save_frontier(rec, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _header(path: Path) -> list[str]:
    """The column names of a CSV's first line, read as a CSV line: a byte-order mark, quoted
    names and ``;`` or tab separators are the file's, not part of the names."""
    import csv

    with open(path, encoding="utf-8-sig", errors="replace", newline="") as f:
        first = f.readline()
    if not first.strip():
        return []
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [name.strip() for name in next(csv.reader([first], dialect))]


def _input_mapping(args):
    """The mapping the input options describe: a name or a file, the time zone, the join keys."""
    from calibrate.joining import with_keys
    from calibrate.mappings import lead_table_mapping, resolve_mapping

    if args.mapping is None:
        mapping = lead_table_mapping(_header(args.history))
    elif args.mapping in ("hubspot", "salesforce") or args.mapping.lower().endswith((".toml", ".json")):
        mapping = resolve_mapping(args.mapping, [])
    else:
        raise ValueError(
            f"--mapping must be hubspot, salesforce or a .toml or .json mapping file, got {args.mapping!r}"
        )
    if args.timezone is not None:
        mapping = mapping.replace(timezone=args.timezone)
        for kind in ("deals", "activities"):
            join = getattr(mapping, kind)
            if join is not None:
                table = join.mapping.replace(timezone=args.timezone)
                mapping = mapping.replace(**{kind: dataclasses.replace(join, mapping=table)})
    for kind in ("deals", "activities"):
        key, lead_key = getattr(args, f"{kind}_key"), getattr(args, f"{kind}_lead_key")
        if key is not None or lead_key is not None:
            mapping = with_keys(mapping, kind, key=key, lead_key=lead_key)
    return mapping


def _check_recommend_paths(args) -> None:
    """No output is an input or another output: one error before anything is read (issue 15)."""
    from simulate.output_folder import check_paths

    mapping = getattr(args, "mapping", None)
    inputs = {"the history": args.history, "the scenario file": args.scenario}
    inputs["the mapping file"] = mapping if mapping and Path(mapping).is_file() else None
    for name in ("events", "deals", "activities"):
        inputs[f"the --{name} file"] = getattr(args, name, None)
    outputs = {"--out": args.out, "--plot": args.plot}
    try:
        from calibrate.rejects import rejects_path

        outputs["the rejected rows' file"] = rejects_path(args.out)
    except ImportError:  # pragma: no cover - before calibrate.rejects exists
        pass
    check_paths(inputs=inputs, files=outputs)


def _save_frontier(rec, path: Path) -> None:
    from calibrate.plotting import save_png

    save_png(lambda ax: rec.plot_frontier(ax=ax), path)


def _demo(args) -> int:
    """``demo``: checks first, then every file into one staged folder, moved into place at the end."""
    from simulate.io import scenario_input
    from simulate.output_folder import MANIFEST, check_paths, output_folder

    check_paths(inputs={"the scenario file": args.scenario}, folders={"--out": args.out})
    scenario, inputs = scenario_input(args.scenario)
    with output_folder(args.out, command="python -m calibrate demo", seed=args.seed, inputs=inputs) as stage:
        names = _demo_steps(args, scenario, stage)
    for name in [*names, MANIFEST]:
        print(f"wrote {args.out / name}")
    return 0


def _demo_steps(args, scenario, out: Path) -> list[str]:
    """Simulate, fit, recommend, verify; write every file into ``out``; return their names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import simulate
    from calibrate.diagnostics import evaluate
    from calibrate.history import load_history
    from calibrate.labels import make_labels
    from calibrate.plotting import plot_points, plot_reliability
    from calibrate.replayed import replay
    from calibrate.threshold import recommend
    from calibrate.verification import verification_report, verify
    from calibrate.world import fit_world
    from simulate.atomic import write_atomic
    from simulate.io import write_run_files

    print(f"1. simulating a year of {scenario.name!r} (seed {args.seed}) ...", flush=True)
    result = simulate.run(scenario, seed=args.seed)
    written = [out / name for name in write_run_files(result, out)]
    print(result.report(), "\n")

    print("2. fitting a world to the history, points to its deals,\n   and weighing every threshold ...", flush=True)
    history = load_history(result)
    # the team, its hours and the response effect come from the world fitted to the history
    # (as for a CRM export); only the SLA, the promise, is the scenario's
    world = fit_world(history, rules=scenario.rules, sla=scenario.sla, seed=args.seed)
    print(replay(history, world, seeds=5, seed=args.seed + 2000).summary(), "\n")
    rec = recommend(history, world=world, current_rules=scenario.rules, seed=args.seed)
    with warnings.catch_warnings():
        # the history only has outcomes for leads that were MQLs: said once, below
        warnings.simplefilter("ignore")
        labels = make_labels(history, horizon_days=HORIZON_DAYS)
    fit_quality = evaluate(labels.y, rec.scorecard.predict_proba(labels.X)[:, 1], sample_weight=labels.sample_weight)

    print(
        f"3. verifying on {args.verify_seeds} new simulated years\n"
        "   (recommended and current rules on the same seeds) ...",
        flush=True,
    )
    checked = verify(rec, scenario, seeds=args.verify_seeds)
    rec = rec.with_verification(checked)
    report = verification_report(rec, checked)

    config = out / "recommended_config.json"
    rec.to_json(config)
    rec.rules.to_json(out / "recommended_rules.json")
    written += [config, out / "recommended_rules.json"]

    figures = {
        "frontier.png": lambda ax: rec.plot_frontier(ax=ax),
        "reliability.png": lambda ax: plot_reliability(fit_quality, ax=ax),
        "points.png": lambda ax: plot_points(rec.rules.table(), ax=ax),
    }
    for name, draw in figures.items():
        fig, ax = plt.subplots(figsize=(9, 5) if name != "points.png" else (8, 10))
        draw(ax)
        fig.tight_layout()
        write_atomic(out / name, lambda tmp, fig=fig: fig.savefig(tmp, format="png", dpi=100))
        plt.close(fig)
        written.append(out / name)

    print()
    print(rec.summary())
    from calibrate.world import wrap80

    note = (
        "note: outcomes exist only for leads sales worked (the old MQLs), so the fit cannot "
        "see below the old threshold (calibrate.make_labels(exploration=...) corrects that)"
    )
    print()
    print(wrap80(note))
    print(
        wrap80(
            f"fit on {len(labels.y):,} judged MQLs (in sample): ROC AUC {fit_quality.auc:.3f}, "
            f"expected calibration error {fit_quality.ece:.4f}"
        )
    )
    print("\nexpected against simulated (mean of the new years):")
    shown = [c for c in ("figure", "expected", "low", "high", "simulated", "within") if c in report]
    print(report[shown].to_string(index=False, float_format=lambda x: f"{x:,.3f}"))
    print(f"meets the SLA target in simulation: {'yes' if report.attrs['meets_sla'] else 'NO'}\n")
    return [path.name for path in written]


def _warning_text(message, category, filename, lineno, line=None) -> str:
    """A warning for the terminal: its kind and message folded at 80 columns."""
    import textwrap

    text = f"{category.__name__}: {message}"
    return "\n".join(textwrap.wrap(text, width=80, subsequent_indent="    ", break_on_hyphens=False)) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args = _parser().parse_args(argv)
    from calibrate.history import HistoryError
    from calibrate.recommendation import RecommendationError
    from simulate.spec import SpecError

    format_before = warnings.formatwarning
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            warnings.formatwarning = _warning_text
            if args.command == "monitor":
                from calibrate.monitor_cli import run_monitor

                return run_monitor(args, _input_mapping)
            run = {"recommend": _recommend, "demo": _demo, "report": _report, "compare": _compare}[args.command]
            return run(args)
    except (HistoryError, RecommendationError, SpecError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = format_before


if __name__ == "__main__":
    sys.exit(main())
