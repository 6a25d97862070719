"""Simulate the lead funnel: lead populations, scoring rules, the sales team and its SLA."""

from simulate.calendar import ALWAYS_OPEN, WorkingCalendar
from simulate.erlang import erlang_c, expected_decay, mean_wait, prob_wait_within, servers_needed
from simulate.funnel import Funnel, ResponseDecay
from simulate.queue import QueueResult, serve_queue
from simulate.rules import Bins, Grades, ScoringRules
from simulate.scenario import (
    Arrivals,
    Behaviour,
    Campaign,
    Categorical,
    CompanySize,
    Population,
    Scenario,
    Truth,
    default_rules,
)
from simulate.simulation import RunResult, monthly_summary, run
from simulate.table import LEAD_COLUMNS, LeadTableError, describe_columns, validate_leads
from simulate.team import SLA, Duration, Rep, Team

__all__ = [
    "ALWAYS_OPEN",
    "Arrivals",
    "Behaviour",
    "Bins",
    "Campaign",
    "Categorical",
    "CompanySize",
    "Duration",
    "Funnel",
    "Grades",
    "LEAD_COLUMNS",
    "LeadTableError",
    "Population",
    "QueueResult",
    "Rep",
    "ResponseDecay",
    "RunResult",
    "SLA",
    "Scenario",
    "ScoringRules",
    "Team",
    "Truth",
    "WorkingCalendar",
    "default_rules",
    "describe_columns",
    "erlang_c",
    "expected_decay",
    "mean_wait",
    "monthly_summary",
    "prob_wait_within",
    "run",
    "serve_queue",
    "servers_needed",
    "validate_leads",
]
