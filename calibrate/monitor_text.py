"""The monitor's report as text, 80 columns wide (``MonitorReport.summary``)."""

from __future__ import annotations

import numpy as np

from calibrate.world import wrap80

__all__ = ["report_lines"]

TOP_DRIFT = 5
"""The summary lists this many columns that moved most."""


def _range(low, high, fmt: str = "{:.3f}") -> str:
    if low is None or high is None or not (np.isfinite(low) and np.isfinite(high)):
        return "n/a"
    return f"{fmt.format(low)}-{fmt.format(high)}"


def _drift_lines(report) -> list[str]:
    d = report.drift
    score = d[d["column"] == "score"].iloc[0]
    out = [
        f"Drift ({report.drift_leads:,} leads of {report.month} at their decision moment, against the training leads):",
        f"  score PSI {score.psi:.3f} ({score.band}); bands: stable < 0.1, shift to 0.25, major above",
        "  moved most:",
    ]
    for row in d[d["column"] != "score"].head(TOP_DRIFT).itertuples():
        out.append(f"    {row.column:<26} PSI {row.psi:6.3f}  {row.band}")
    return out


def _honesty_lines(h: dict) -> list[str]:
    out = [f"Honesty ({h['judged']:,} new leads with a known outcome, {h['wins']:,} won):"]
    if "auc" not in h:
        out.append("  too few judged wins yet to measure (needs 20 wins and 20 losses)")
        return out
    config = h["auc_config"]
    config_text = "n/a" if config is None else f"{config:.3f} [{_range(h['auc_config_low'], h['auc_config_high'])}]"
    out.append(f"  ROC AUC {h['auc']:.3f} [95%: {_range(h['auc_low'], h['auc_high'])}]; config's {config_text}")
    out.append(
        f"  observed / expected wins {h['observed_over_expected']:.2f} "
        f"[95%: {_range(h['oe_low'], h['oe_high'], '{:.2f}')}]; 1.00 is as the config says"
    )
    return out


def _risk_line(label: str, r) -> str:
    breaking = "beyond the volumes looked at" if not np.isfinite(r.breaking_mqls) else f"{r.breaking_mqls:,.0f}"
    return wrap80(
        f"  {label}, {r.reps} reps: chance of breach {r.chance_of_breach:.0%}; SLA met "
        f"{r.compliance:.1%} expected (target {r.target:.0%}); breaks above {breaking} MQLs a month"
    )


def report_lines(report) -> list[str]:
    """The lines of ``MonitorReport.summary``."""
    v, f = report.volume, report.forecast
    lines = [
        f"Monitor of {report.month}, threshold in force {report.threshold:g}: {report.decision.upper()}",
        "",
        *_drift_lines(report),
        "",
        *_honesty_lines(report.honesty),
        "",
        "Volume (MQLs a month):",
        f"  {report.month}: {v['mqls']:,} ({v['campaign_mqls']:,} from campaigns); training months "
        f"{_range(v['config_low'], v['config_high'], '{:,.0f}')} without campaigns",
        f"  forecast {f.month}: {f.mqls:,.0f} [{f.confidence:.0%}: {f.low:,.0f}-{f.high:,.0f}], level "
        f"{f.level:.2f} x last year, campaigns {f.campaign_mqls:,.0f}",
        "",
        f"SLA risk in {f.month} (first touch within the config's SLA):",
        _risk_line("team as it is", report.risk),
    ]
    if report.planned_risk is not None:
        lines.append(_risk_line("planned team", report.planned_risk))
    lines += ["", "Answer:"]
    lines += [wrap80(f"  - {r}") for r in report.reasons]
    rt = report.retune
    lines.append(
        f"  re-tuned threshold {rt.threshold:g} (in force {rt.current_threshold:g})"
        + ("" if rt.feasible else ": no threshold meets the SLA target with this team")
    )
    lines.append(f"    {'next month':<18}{'in force':>12}{'re-tuned':>12}")
    fmt = {"MQLs a month": "{:,.0f}", "SLA met": "{:.1%}", "rep utilisation": "{:.0%}"}
    for row in rt.table.itertuples():
        spec = fmt.get(row.figure, "{:,.2f}")
        lines.append(f"    {row.figure:<18}{spec.format(row.current):>12}{spec.format(row.retuned):>12}")
    lines += [f"Note: {n}" for n in report.notes]
    return [wrap80(line) for line in lines]
