"""The sign-off report: one self-contained HTML page for the marketing-sales meeting.

``write_report(rec, path)`` (also ``Recommendation.report`` and ``python -m calibrate
report CONFIG.json``) writes the threshold and the points, the figures expected a month
with their ranges, the SLA and its confidence, the team's load and staffing, the verified
uplift over the current rules, the frontier, which inputs were fitted and which assumed,
the data's quality and the model's honesty. Everything comes from what a saved config
carries, so a report made from the JSON file alone is the same as one made in the session.
The page embeds its figures (base64 PNG) and style, requests nothing, and prints on two A4
pages.
"""

from __future__ import annotations

import os
from pathlib import Path

from calibrate import report_figures as figures
from calibrate import report_html as html
from calibrate.tradeoffs import CONFIDENCE
from simulate.atomic import write_text_atomic

MAX_POINT_ROWS = 45


def _rows(rec) -> list[tuple[str, str, str]]:
    """(key, label with its unit, format) of the figures the report shows."""
    c, money = rec.constraints, rec.currency
    clock = "calendar"  # response times are measured on the calendar clock
    return [
        ("mqls_per_month", "MQLs a month", "{:,.0f}"),
        ("sla_compliance", f"SLA met: touched within {c['sla_hours']:g} {c['sla_clock']} h (share)", "{:.1%}"),
        ("utilisation", "rep utilisation (share of working time)", "{:.0%}"),
        ("reps_needed", "reps needed for the SLA", "{:,.0f}"),
        ("median_response_hours", f"median first response, {clock} hours", "{:.1f}"),
        ("p90_response_hours", f"90th percentile response, {clock} hours", "{:.1f}"),
        ("precision", "precision: wins per MQL (share)", "{:.1%}"),
        ("wins_per_month", "wins a month", "{:,.1f}"),
        ("revenue_per_month", f"revenue a month, {money}", "{:,.0f}"),
        ("revenue_lost_per_month", f"revenue lost to slow response, {money} a month", "{:,.0f}"),
        ("extrapolated_share", "MQLs from score regions never worked (share; wins a range)", "{:.0%}"),
    ]


def _fmt(fmt: str, value) -> str:
    return "n/a" if value is None else fmt.format(value)


def figures_table(rec) -> str:
    """Expected figures: value, the interval of the expectation, a new year's range, current."""
    level = f"{CONFIDENCE:.0%}"
    head = [
        "per month unless stated",
        "expected",
        f"{level} interval",
        f"a new year's range ({level})",
        "current rules",
    ]
    rows = []
    for key, label, fmt in _rows(rec):
        e = rec.expected.get(key)
        if e is None:
            continue
        now = rec.current.get(key) if rec.current else None
        rows.append(
            [
                label,
                _fmt(fmt, e.value),
                f"{_fmt(fmt, e.low)} to {_fmt(fmt, e.high)}" if e.low is not None else "",
                f"{_fmt(fmt, e.year_low)} to {_fmt(fmt, e.year_high)}" if e.year_low is not None else "",
                _fmt(fmt, now.value) if now is not None else "",
            ]
        )
    note = html.paragraph(
        f"The {level} interval bounds the expected monthly figure; a new year's range is where the "
        "monthly average of one coming year may fall (the estimate's uncertainty plus a year's "
        "arrivals, outcomes and queue). Revenue lost to slow response is what faster first "
        "touches would have added, per month; it is not part of the revenue above.",
        "note",
    )
    return html.table(head, rows) + note


def sla_text(rec) -> str:
    """The SLA, its confidence and the team's load, in words."""
    c, e = rec.constraints, rec.expected
    parts = [
        f"SLA: first touch within {c['sla_hours']:g} {c['sla_clock']} hours for {c['sla_target']:.0%} of MQLs, "
        f"with a team of {c['reps']} reps."
    ]
    if c.get("sla_confidence"):
        parts.append(
            f"The threshold is chosen so that the target is met in {c['sla_confidence']:.0%} of new years "
            "(the stated confidence), not only on average."
        )
    if c.get("feasible") is False:
        parts.append("No threshold meets the SLA target with this team: this is the best-served one.")
    util, need = e.get("utilisation"), e.get("reps_needed")
    if util is not None and util.value is not None:
        parts.append(f"The reps are busy {util.value:.0%} of their working time.")
    if need is not None and need.value is not None:
        parts.append(f"{need.value:,.0f} reps would hold the SLA at this threshold.")
    if c.get("sla_model") == "simulation":
        parts.append("SLA figures come from the simulation (outside the analytic model's checked range).")
    return html.paragraph(" ".join(parts))


def routing_section(rec) -> str:
    """The queue policy to run and, when a tournament chose it, every policy at its own best
    threshold with its paired gain over the reference."""
    routing = rec.routing
    if not routing:
        return ""
    out = html.paragraph(f"Routing: {routing['rule']}.")
    record = routing.get("tournament")
    if not record:
        return out
    revenue = record["objective"] == "revenue_per_month"
    unit = f"revenue a month, {rec.currency}" if revenue else "wins a month"
    fmt = "{:,.0f}" if revenue else "{:,.2f}"
    signed = fmt.replace("{:", "{:+")
    level = f"{record.get('confidence', CONFIDENCE):.0%}"
    head = ["policy", "its best threshold", unit, f"gain over {record['reference']}", f"{level} interval", "SLA met"]
    rows = [
        [
            r["policy"],
            _fmt("{:g}", r["threshold"]),
            _fmt(fmt, r["value"]),
            _fmt(signed, r["gain"]),
            f"{_fmt(signed, r.get('gain_low'))} to {_fmt(signed, r.get('gain_high'))}",
            _fmt("{:.1%}", r.get("sla_compliance")),
        ]
        for r in record["policies"]
    ]
    note = html.paragraph(
        f"Chosen by a tournament: every policy at {record['thresholds']} thresholds on the same "
        f"{record['seeds']} simulated seeds; the gain is paired seed by seed, each policy at its own "
        "best threshold whose SLA a new year meets with the stated confidence; its interval holds "
        "the seeds' noise and that of the outcomes the chances were learned from.",
        "note",
    )
    return out + html.table(head, rows) + note


def uplift_section(rec) -> str:
    """The verified, paired uplift over the current rules (or the claim, if not verified)."""
    verified = rec.verified
    if rec.verification is not None:
        from calibrate.report_data import verification_summary

        verified = verification_summary(rec.verification)
    units = dict((k, (label, fmt)) for k, label, fmt in _rows(rec))
    if verified and verified.get("paired"):
        rows = []
        for f in verified["figures"]:
            if f["figure"] not in units:
                continue
            label, fmt = units[f["figure"]]
            signed = fmt.replace("{:", "{:+")
            rows.append(
                [
                    label,
                    _fmt(fmt, f.get("current")),
                    _fmt(fmt, f.get("recommended")),
                    _fmt(signed, f.get("uplift")),
                    f"{_fmt(signed, f.get('low'))} to {_fmt(signed, f.get('high'))}",
                ]
            )
        text = html.paragraph(
            f"Verified on {verified['seeds']} new simulated years, the same seeds for both rule sets "
            "(95% interval over the seeds' paired differences)."
        )
        return text + html.table(["per month unless stated", "current", "recommended", "uplift", "95% interval"], rows)
    if rec.uplift:
        rows = [
            [units[k][0], _fmt(units[k][1].replace("{:", "{:+"), u.value)] for k, u in rec.uplift.items() if k in units
        ]
        return html.paragraph("Expected (not verified in simulation):") + html.table(["figure", "uplift"], rows)
    return html.paragraph("No current rules were given: there is no uplift to show.")


def points_section(rec) -> str:
    """The points table (non-zero rows) in three columns, and the threshold."""
    t = figures.rules_table(rec.rules)
    t = t[t["points"] != 0]
    omitted = max(len(t) - MAX_POINT_ROWS, 0)
    if omitted:
        t = t.loc[t["points"].abs().sort_values(ascending=False).index[:MAX_POINT_ROWS]].sort_index()
    rows = [[f"{r.criterion}: {r.value}", f"{r.points:+d}"] for r in t.itertuples()]
    head = html.paragraph(
        f"A lead becomes an MQL when its points add up to {rec.threshold:g} or more. "
        "Rows with zero points are not listed."
        + (f" {omitted} rows with the fewest points are omitted." if omitted else "")
    )
    points = html.table(["criterion: value", "points"], rows, css="small")
    return head + '<div class="cols">' + points + "</div>"


def inputs_section(rec) -> str:
    if rec.inputs is None or not len(rec.inputs):
        return html.paragraph("The config does not list its inputs.")
    rows = [[r.input, r.value, r.basis] for r in rec.inputs.itertuples()]
    return html.table(["input", "value", "fitted, given or assumed"], rows, numeric_from=9, css="small")


def data_section(rec) -> str:
    q = rec.data_quality
    if not q:
        return html.paragraph("The config does not record the data's quality.")
    text = html.paragraph(
        f"{q['rows_used']:,} of {q['rows_read']:,} lead rows used; "
        f"{q['rows_read'] - q['rows_used']:,} left out (listed in the rejects file)."
    )
    rows = [[reason, f"{n:,}"] for reason, n in list(q["rejects"].items())[:8]]
    return text + (html.table(["reason a row was left out", "rows"], rows, css="small") if rows else "")


def model_section(rec) -> str:
    m = rec.model_checks
    if not m or "auc" not in m:
        return html.paragraph("No model checks are recorded in the config.")
    text = html.paragraph(
        f"On {m['leads']:,} worked leads ({m['wins']:,} wins), {m['method']}: AUC {m['auc']:.3f} "
        f"(0.5 is chance), Brier score {m['brier']:.4f}, expected calibration error "
        f"{m['calibration_error']:.4f} (share; 0 is perfectly calibrated)."
    )
    return text + html.image(figures.calibration_png(m), "calibration", "narrow")


def build_report(rec) -> str:
    """The report as an HTML string."""
    c = rec.constraints
    lead = (
        f"Recommended MQL threshold: {rec.threshold:g} (objective: {rec.objective}; "
        f"current threshold: {c['current_threshold']:g})."
        if "current_threshold" in c
        else f"Recommended MQL threshold: {rec.threshold:g} (objective: {rec.objective})."
    )
    if c.get("kept_current_rules"):
        lead += " Keep the rules in force: no threshold of the refitted points does better."
    history = rec.history or {}
    prov = html.paragraph(
        f"History: {history.get('leads', 0):,} leads from {str(history.get('first_created', '?'))[:10]} "
        f"to {str(history.get('as_of', '?'))[:10]}; {rec.data_fingerprint[:19]}..., seed {rec.seed}, "
        f"leadfunnel {rec.package_version}. Amounts in {rec.currency}.",
        "note",
    )
    frontier = html.image(figures.frontier_png(rec), "threshold frontier")
    first = [
        ("What to expect a month", figures_table(rec)),
        ("SLA, team load and staffing", sla_text(rec) + routing_section(rec)),
        ("Against the current rules", uplift_section(rec)),
        ("The frontier", frontier + prov),
    ]
    second = [
        ("The points", points_section(rec)),
        ("Inputs: fitted, given or assumed", inputs_section(rec)),
        (
            "",
            '<div class="grid"><div><h2>Data quality</h2>' + data_section(rec) + "</div>"
            "<div><h2>Model honesty</h2>" + model_section(rec) + "</div></div>",
        ),
    ]
    return html.page("MQL threshold and lead-scoring points: sign-off", first, second, lead)


def write_report(rec, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write the report to ``path`` (refusing an existing file unless ``overwrite``)."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists (pass overwrite=True, or --overwrite, to replace it)")
    text = build_report(rec)
    write_text_atomic(path, text)
    return path
