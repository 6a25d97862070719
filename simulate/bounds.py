"""The ranges the numbers of a scenario may take, and the sizes that fit in memory.

Every number of a spec is finite and inside a documented range, or refused with one
``ValueError`` naming its key (``funnel.days_to_sql``). Sizes (leads, behaviour events,
reps) are bounded by what a simulation holds in the memory of a laptop, and the message
says how much memory the asked-for size would need. The figures per lead, per event and
per rep-day were measured on the default scenario (``resource.getrusage`` around
``simulate.run``): about 400 bytes a lead and 80 bytes an event at the peak of a run; the
constants below round them up.

Dates are within 1980 to 2099, as the history loader requires of a CRM export.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

FIRST_YEAR, LAST_YEAR = 1980, 2099
"""Dates a scenario may start and end on (the history loader's range)."""

MAX_MAGNITUDE = 1e9
"""No other number of a scenario is larger than this in size (a typo, not a world)."""

MAX_DAYS = 3650.0
"""Durations in days (``*_days``, ``days_to_*``, ``cadence_days``) are at most ten years."""

MAX_SPREAD = 5.0
"""Log-normal spreads and noise (``spread``, ``sigma``, ``noise_sd``): ``exp(5 * 4)`` is already 5e8."""

MAX_EMPLOYEES = 10_000_000.0
"""The largest company on earth has about two million employees."""

MAX_SLA_HOURS = 8760.0
"""An SLA of more than a year of hours is not an SLA."""

MAX_TASK_MINUTES = 10_080.0
"""A first touch or a follow-up takes at most a week of working minutes."""

MAX_ATTEMPTS = 100
"""Contact attempts per lead."""

MEMORY_BUDGET = 8 * 2**30
"""Bytes a simulation may plan to use for its leads and events: half of a 16 GiB laptop."""

BYTES_PER_LEAD = 500
BYTES_PER_EVENT = 100
BYTES_PER_REP_DAY = 200

MAX_LEADS = MEMORY_BUDGET // BYTES_PER_LEAD
"""About 17 million leads over a scenario, if they had no events; the default has about 38,000."""
MAX_EVENTS = MEMORY_BUDGET // BYTES_PER_EVENT
"""About 86 million behaviour events, if the leads took no memory; the default has about 575,000."""
TYPICAL_EVENTS_PER_LEAD = 100
"""Above this many expected events a lead, the behaviour (not the lead count) is what is too big."""
MAX_REPS = 1000
"""Reps in a team (each has his own calendar, shrinkage and queue)."""

# fields whose size is bounded by memory, not by MAX_MAGNITUDE (checked by check_size)
_SIZED = {"leads_per_month", "extra_leads", "rates", "reps"}


def memory_text(n_bytes: float) -> str:
    """``n_bytes`` in KiB, MiB, GiB or TiB, two significant digits (``7.3 TiB``)."""
    value = float(n_bytes)
    if not math.isfinite(value):
        return "more than any computer has"
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            if unit == "bytes":
                return f"{value:.0f} bytes"
            return f"{value:.2g} {unit}" if value < 10 or unit != "PiB" and value < 100 else f"{value:,.0f} {unit}"
        value /= 1024
    raise AssertionError  # pragma: no cover


def check_date(owner: str, day: dt.date) -> None:
    """Raise ``ValueError`` unless ``day`` lies in 1980 to 2099."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"{owner} must be a date in {FIRST_YEAR} to {LAST_YEAR}, got {day.isoformat()}")


def _limit(name: str) -> tuple[float, float]:
    """``(low, high)`` for a number field called ``name`` (ranges by unit and meaning)."""
    if name.endswith("_days") or name.startswith("days_") or name == "days":
        return 0.0, MAX_DAYS
    if name in ("spread", "sigma", "noise_sd", "close_spread", "amount_spread"):
        return 0.0, MAX_SPREAD
    if name in ("max_employees", "median_employees"):
        return 0.0, MAX_EMPLOYEES
    if name == "hours":
        return 0.0, MAX_SLA_HOURS
    if name == "median_minutes":
        return 0.0, MAX_TASK_MINUTES
    if name == "attempts":
        return 0.0, MAX_ATTEMPTS
    return -MAX_MAGNITUDE, MAX_MAGNITUDE


def check_numbers(spec: Any, owner: str | None = None) -> None:
    """Every number in ``spec`` (a dataclass, walked into nested specs) is finite and in range.

    The range of a field follows its name (see :func:`_limit`); fields whose size is bound by
    memory (``leads_per_month``, ``extra_leads``, ``rates``, ``reps``) are left to
    :func:`check_size`. The message names the key path: ``Funnel.days_to_sql must be a
    finite number in [-3650, 3650], got 1e+300``.
    """
    _walk(spec, type(spec).__name__ if owner is None else owner, None)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: float) -> str:
    try:
        return f"{value:g}"
    except OverflowError:  # an int beyond any float
        return f"{str(value)[:12]}... ({len(str(value))} digits)"


def _walk(value: Any, path: str, name: str | None) -> None:
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            if f.name not in _SIZED:
                _walk(getattr(value, f.name), _join(path, f.name), f.name)
        return
    if isinstance(value, tuple | list):
        for i, v in enumerate(value):
            _walk(v, f"{path}[{i}]", name)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            _walk(v, _join(path, str(k)), name if not dataclasses.is_dataclass(v) else None)
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    low, high = _limit(name or "")
    if not (isinstance(value, int) or math.isfinite(value)) or not low <= value <= high:
        raise ValueError(f"{path} must be a finite number in [{low:g}, {high:g}], got {_show(value)}")


def check_reps(owner: str, reps: int, days: float = 365.0) -> None:
    """At most :data:`MAX_REPS` reps, with the memory their calendars would need."""
    if reps > MAX_REPS:
        need = memory_text(reps * days * BYTES_PER_REP_DAY)
        raise ValueError(
            f"{owner} must be at most {MAX_REPS:,} (the calendars and queues of {reps:,} reps need about "
            f"{need} a year of simulation)"
        )


def _finite(x: float) -> float:
    return x if math.isfinite(x) else math.inf


def expected_leads(scenario: Any) -> float:
    """Leads a scenario is expected to make: monthly volume times months, plus campaigns."""
    a = scenario.arrivals
    return _finite(float(a.leads_per_month) * scenario.months + sum(float(c.extra_leads) for c in a.campaigns))


def expected_events_per_lead(behaviour: Any) -> float:
    """An upper estimate of behaviour events per lead.

    ``E[active days] * sum_kind max_stage(rate) * E[exp(sensitivity * u)]`` with ``u ~ N(0,
    1)``: ``min(max_active_days, mean_active_days * exp(slope**2 / 2)) * sum_k max(rates_k)
    * exp(s_k**2 / 2)``. It is above the default's 15 events a lead (about 22), as a bound
    should be.
    """

    def lognormal_mean(s: float) -> float:
        return math.exp(min(s * s / 2, 700.0))

    days = min(
        float(behaviour.max_active_days),
        behaviour.mean_active_days * lognormal_mean(behaviour.active_days_intent_slope),
    )
    per_day = 0.0
    for kind, rates in behaviour.rates.items():
        per_day += max(float(r) for r in rates) * lognormal_mean(float(behaviour.intent_sensitivity.get(kind, 0.0)))
    return _finite(days * per_day)


def check_size(scenario: Any) -> None:
    """Refuse a scenario whose leads or events would not fit in memory, naming the key."""
    a = scenario.arrivals
    for name, value in (
        ("leads_per_month", a.leads_per_month),
        *((f"campaigns.{c.name}.extra_leads", c.extra_leads) for c in a.campaigns),
    ):
        if not math.isfinite(value):
            raise ValueError(f"arrivals.{name} must be a finite number, got {value}")
    for kind, rates in scenario.behaviour.rates.items():
        if not all(math.isfinite(r) for r in rates):
            raise ValueError(f"behaviour.rates.{kind} must be finite numbers, got {rates}")
    leads = expected_leads(scenario)
    events = _finite(leads * expected_events_per_lead(scenario.behaviour))
    need = _finite(leads * BYTES_PER_LEAD + events * BYTES_PER_EVENT)
    if need <= MEMORY_BUDGET:
        pass
    elif events <= TYPICAL_EVENTS_PER_LEAD * leads:  # ordinary behaviour: too many leads
        parts = {f"arrivals.leads_per_month ({a.leads_per_month:g} over {scenario.months} months)": 0.0}
        parts[next(iter(parts))] = a.leads_per_month * scenario.months
        parts |= {f"arrivals.campaigns {c.name!r} extra_leads ({c.extra_leads:g})": c.extra_leads for c in a.campaigns}
        key = max(parts, key=parts.get)
        raise ValueError(
            f"{key} makes the scenario about {leads:.3g} leads with {events:.3g} behaviour events, which need about "
            f"{memory_text(need)} of memory; at most {memory_text(MEMORY_BUDGET)} fit (about "
            f"{int(MEMORY_BUDGET / (BYTES_PER_LEAD + BYTES_PER_EVENT * events / leads)):,} leads of this behaviour): "
            "simulate fewer months or fewer leads, or split it"
        )
    else:
        raise ValueError(
            f"behaviour.rates and its active days make about {events:.3g} behaviour events for {leads:.3g} leads, "
            f"which need about {memory_text(need)} of memory; at most {memory_text(MEMORY_BUDGET)} fit: lower the "
            "rates, mean_active_days or max_active_days, or the number of leads"
        )
    check_reps("team.reps", scenario.team.size, scenario.days)


def check_scenario(scenario: Any) -> None:
    """The whole scenario: numbers in range, sizes that fit, dates in range, reps who work.

    A team none of whose reps has a working day in the scenario's period (every working
    day a holiday), or a business-hours SLA clock without one, is refused with one message:
    no lead could be touched in time, so no figure of such a run would mean anything.
    """
    check_numbers(scenario, "")
    check_size(scenario)
    last = scenario.end_date - dt.timedelta(days=1)
    check_date(f"the last day of the scenario (start {scenario.start} plus {scenario.months} months)", last)
    days = scenario.days
    start = scenario.start_date
    if not any(c.has_working_day(start, days) for c in set(scenario.team.calendars)):
        raise ValueError(
            f"team: no rep has a working day between {start} and {last} (every working weekday of their "
            "calendars is a holiday): give the team working days in the scenario's period"
        )
    sla = scenario.sla
    if sla.clock == "business" and not sla.calendar.has_working_day(start, days):
        raise ValueError(
            f"sla.calendar: no working day between {start} and {last}, so a business-hours SLA clock never "
            "runs: give it working days, or set sla.clock = 'calendar'"
        )
