"""Simulate the lead funnel: lead populations, scoring rules, the sales team and its SLA."""

from simulate.rules import Bins, Grades, ScoringRules
from simulate.run import RunResult, monthly_summary, run
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
from simulate.table import LEAD_COLUMNS, LeadTableError, describe_columns, validate_leads

__all__ = [
    "Arrivals",
    "Behaviour",
    "Bins",
    "Campaign",
    "Categorical",
    "CompanySize",
    "Grades",
    "LEAD_COLUMNS",
    "LeadTableError",
    "Population",
    "RunResult",
    "Scenario",
    "ScoringRules",
    "Truth",
    "default_rules",
    "describe_columns",
    "monthly_summary",
    "run",
    "validate_leads",
]
