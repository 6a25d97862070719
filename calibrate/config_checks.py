"""A recommendation config's internal consistency, checked on read and on write.

The JSON schema checks each key on its own; these checks look across keys and at the
numbers themselves, so that a config that cannot be right is refused with one
``RecommendationError`` naming the key, before it is used or written:

- every number is finite (``1e400`` parses as infinity; ``NaN`` and ``Infinity`` are not
  JSON) and in range (reps, SLA hours);
- ``threshold`` is the rules' ``mql_threshold`` (for a single-axis rule: the two must say
  the same);
- every interval is ordered: ``low <= high``, ``year_low <= year_high``;
- the objective is one ``recommend`` knows, and a ``target`` goes with the objectives that
  have one (``volume``, ``pipeline``).
"""

from __future__ import annotations

import math
from typing import Any

from simulate.bounds import MAX_REPS, MAX_SLA_HOURS

OBJECTIVES_WITH_TARGET = ("volume", "pipeline")


def _numbers(value: Any, path: str):
    """Every number in plain data, with its key path (``expected/sla_compliance/low``)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, f"{path}/{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _numbers(v, f"{path}/{i}")
    elif isinstance(value, float | int) and not isinstance(value, bool):
        yield path, value


def config_problem(data: dict) -> str | None:
    """The first inconsistency of a config's plain data (``Recommendation.to_dict``), or ``None``."""
    for path, value in _numbers(data, ""):
        if isinstance(value, float) and not math.isfinite(value):
            return f"key {path!r} must be a finite number, got {value}"
    rules = data.get("rules", {})
    threshold = data.get("threshold")
    if "grades" not in rules and threshold != rules.get("mql_threshold"):
        return (
            f"key 'threshold' ({threshold}) contradicts the rules' mql_threshold ({rules.get('mql_threshold')}): "
            "a config says one threshold"
        )
    c = data.get("constraints", {})
    if c.get("reps", 1) > MAX_REPS:
        return f"key 'constraints/reps' must be at most {MAX_REPS:,}, got {c['reps']}"
    if c.get("sla_hours", 1) > MAX_SLA_HOURS:
        return f"key 'constraints/sla_hours' must be at most {MAX_SLA_HOURS:g}, got {c['sla_hours']}"
    for section in ("expected", "current", "uplift"):
        for figure, e in (data.get(section) or {}).items():
            for lo, hi in (("low", "high"), ("year_low", "year_high")):
                a, b = e.get(lo), e.get(hi)
                if a is not None and b is not None and a > b:
                    return f"key '{section}/{figure}': its interval is not ordered ({lo} {a:g} > {hi} {b:g})"
    from calibrate.threshold import OBJECTIVES

    objective = data.get("objective")
    if objective not in OBJECTIVES:
        return f"key 'objective' must be one of {OBJECTIVES}, got {objective!r}"
    target = c.get("target")
    if target is not None and objective not in OBJECTIVES_WITH_TARGET:
        return f"key 'constraints/target' goes with the objectives {OBJECTIVES_WITH_TARGET}, not {objective!r}"
    if target is not None and not target > 0:
        return f"key 'constraints/target' must be > 0, got {target}"
    return None
