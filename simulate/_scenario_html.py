"""The HTML summary of a ``Scenario`` in a notebook: its main knobs as one table."""

from __future__ import annotations

from html import escape


def scenario_html(scenario) -> str:
    """The scenario's main knobs as a table (``Scenario._repr_html_``)."""
    a, team, sla, rules = scenario.arrivals, scenario.team, scenario.sla, scenario.rules
    names = "Mon Tue Wed Thu Fri Sat Sun".split()

    def hours(cal) -> str:
        start, end = (f"{int(h):d}:{round((h - int(h)) * 60):02d}" for h in (cal.start_hour, cal.end_hour))
        days = ", ".join(names[d] for d in sorted(cal.weekdays))
        return f"{days} {start} to {end} {cal.timezone}"

    shifts = sorted({hours(c) for c in team.calendars})
    shifts_text = "; ".join(shifts)
    if len(shifts) > 1:
        shifts_text = f"{len(shifts)} shifts: {shifts_text}"
    campaigns = (
        "; ".join(f"{c.name} ({c.start}, {c.days} days, +{c.extra_leads:,.0f} leads)" for c in a.campaigns) or "none"
    )
    if rules.grades is not None:
        mql = f"fit grade x engagement ({len(rules.grades.engagement_thresholds)} grades)"
    else:
        mql = f"score >= {rules.mql_threshold:g}"
    half_life = rules.decay_half_life_days
    decay = f"half-life {half_life:g} days" if half_life else "no decay"
    n_fit = len(rules.fit) + len(rules.fit_numeric)
    rows = [
        ("period", f"{scenario.start} to {scenario.end_date} ({scenario.months} months), {scenario.timezone}"),
        ("arrivals", f"{a.leads_per_month:,.0f} new leads a month (seasonal, weekday and hour profiles)"),
        ("campaigns", campaigns),
        (
            "scoring rules",
            f"MQL at {mql}; {n_fit} fit and {len(rules.engagement)} engagement criteria; behaviour points {decay}",
        ),
        (
            "team",
            f"{team.size} reps, {team.routing.replace('_', ' ')}, {team.discipline}; "
            f"{shifts_text}; shrinkage {team.shrinkage:.0%}; {team.attempts} attempts",
        ),
        (
            "SLA",
            f"first touch within {sla.hours:g} {sla.clock} hours for {sla.target:.0%} "
            f"of MQLs; at a breach: {sla.breach}",
        ),
    ]
    cell = "style='text-align:left'"
    body = "".join(f"<tr><th {cell}>{escape(k)}</th><td {cell}>{escape(v)}</td></tr>" for k, v in rows)
    return f"<div><b>Scenario '{escape(scenario.name)}'</b>: {escape(scenario.description)}<table>{body}</table></div>"
