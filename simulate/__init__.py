"""Simulate the lead funnel: lead populations, scoring rules, the sales team and its SLA.

The names below are what a user needs; everything else is reachable from its module
(formulas in ``simulate.erlang``, calendar arithmetic in ``simulate.calendar``, the column
catalogue in ``simulate.table``, seeds in ``simulate.seeding``). They are imported on first
use, so ``import simulate`` is instant and a command that needs only the scenario never
pays for numba or pandas.
"""

from importlib import import_module

_HOMES = {
    "Arrivals": "simulate.scenario",
    "Behaviour": "simulate.scenario",
    "Campaign": "simulate.scenario",
    "ExplorationRule": "simulate.exploration",
    "Funnel": "simulate.funnel",
    "LeadTableError": "simulate.table",
    "POLICIES": "simulate.routing",
    "Policy": "simulate.routing",
    "Population": "simulate.scenario",
    "Rep": "simulate.team",
    "RunResult": "simulate.simulation",
    "SLA": "simulate.team",
    "Scenario": "simulate.scenario",
    "ScoringRules": "simulate.rules",
    "SpecError": "simulate.spec",
    "Team": "simulate.team",
    "Truth": "simulate.scenario",
    "WorkingCalendar": "simulate.calendar",
    "describe_columns": "simulate.table",
    "grid": "simulate.sweeps",
    "policy_grid": "simulate.routing",
    "run": "simulate.simulation",
    "run_with_exploration": "simulate.exploration",
    "serve_queue": "simulate.queue",
    "sweep": "simulate.sweeps",
    "validate_events": "simulate.table",
    "validate_leads": "simulate.table",
    "warm_up": "simulate.warmup",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None and not name.startswith("__"):
        try:  # a submodule: ``simulate.<module>`` works without importing it first
            return import_module(f"simulate.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"simulate.{name}":
                raise
    if home is None:
        raise AttributeError(f"module 'simulate' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
