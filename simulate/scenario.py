"""The scenario: every knob of the simulated world, as plain frozen dataclasses.

``Scenario()`` is the documented default: a B2B software seller with about 3,000 new leads a
month over one year, hand-set scoring rules as a marketing team would have them, a team of
four reps in New York working weekdays 9 to 5 who promised a first touch within 8 business
hours for 90% of MQLs, and a known ground truth. Vary it with ``dataclasses.replace`` (or
``scenario.replace(...)``), save and load it as TOML.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tomllib
import zoneinfo
from dataclasses import dataclass, field

from simulate import _toml
from simulate.atomic import write_text_atomic
from simulate.bounds import check_date, check_numbers, check_scenario
from simulate.funnel import Funnel
from simulate.rules import Bins, ScoringRules, default_rules  # noqa: F401 (default_rules: its old home)
from simulate.spec import (
    SpecError,
    check,
    check_probability,
    check_shares,
    from_dict,
    parse_table,
    read_text,
    require_table,
    to_dict,
)
from simulate.table import (
    BEHAVIOUR_COLUMNS,
    CATEGORICAL_ATTRIBUTES,
    EVENT_KINDS,
    LEAD_COLUMNS,
    LEAD_TYPES,
)
from simulate.team import SLA, Team

SCENARIO_FORMAT = "leadfunnel.scenario/1"
STAGES = ("awareness", "consideration", "decision")


def _parse_date(owner: str, text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{owner} must be an ISO date like 2026-01-31, got {text!r}") from None
    check_date(owner, day)
    return day


@dataclass(frozen=True, slots=True, kw_only=True)
class Campaign:
    """A burst of extra leads from one source over a few days (a webinar series, a trade show)."""

    name: str
    start: str
    days: int = 7
    extra_leads: float = 1000.0
    source: str = "webinar"
    intent_shift: float = 0.0

    def __post_init__(self) -> None:
        _parse_date(f"Campaign {self.name!r} start", self.start)
        check(self.days >= 1, f"Campaign.days must be >= 1, got {self.days}")
        check(self.extra_leads >= 0, f"Campaign.extra_leads must be >= 0, got {self.extra_leads}")
        check_numbers(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Arrivals:
    """When new leads arrive.

    The expected number of leads on a day is ``leads_per_month * month_multipliers[m] /
    mean(month_multipliers)`` shared among the days of its month by ``weekday_profile``; the
    count is Poisson. The hour of day (in the scenario's time zone) follows ``hour_profile``.
    Campaign leads come on top, spread evenly over the campaign's days.
    """

    leads_per_month: float = 3000.0
    month_multipliers: tuple[float, ...] = (
        1.10,
        1.05,
        1.10,
        1.05,
        1.00,
        0.95,
        0.85,
        0.80,
        1.05,
        1.10,
        1.05,
        0.90,
    )
    weekday_profile: tuple[float, ...] = (1.00, 1.05, 1.05, 1.00, 0.85, 0.20, 0.15)
    hour_profile: tuple[float, ...] = (
        0.15,
        0.10,
        0.08,
        0.08,
        0.10,
        0.20,
        0.45,
        0.80,
        1.20,
        1.50,
        1.60,
        1.55,
        1.35,
        1.45,
        1.50,
        1.40,
        1.20,
        0.95,
        0.70,
        0.60,
        0.55,
        0.45,
        0.35,
        0.25,
    )
    campaigns: tuple[Campaign, ...] = (
        Campaign(
            name="spring webinar series",
            start="2026-03-16",
            days=10,
            extra_leads=1200.0,
            source="webinar",
            intent_shift=0.3,
        ),
        Campaign(
            name="autumn trade show", start="2026-10-05", days=4, extra_leads=900.0, source="events", intent_shift=0.0
        ),
    )

    def __post_init__(self) -> None:
        check(
            self.leads_per_month >= 0,
            f"Arrivals.leads_per_month must be >= 0, got {self.leads_per_month}",
        )
        for name, values, n in (
            ("month_multipliers", self.month_multipliers, 12),
            ("weekday_profile", self.weekday_profile, 7),
            ("hour_profile", self.hour_profile, 24),
        ):
            check(len(values) == n, f"Arrivals.{name} must have {n} values, got {len(values)}")
            check(min(values) >= 0, f"Arrivals.{name} must be >= 0, got {min(values)}")
            check(sum(values) > 0, f"Arrivals.{name} must not be all zero")
        names = [c.name for c in self.campaigns]
        check(len(set(names)) == len(names), "Arrivals.campaigns names must be unique")
        check_numbers(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Categorical:
    """A categorical attribute: its share of leads, and how latent fit tilts it.

    ``P(value | fit z) ∝ exp(b_value + fit_loading[value] * z)``, with the ``b`` solved so
    that the population's shares are ``shares`` (values missing from ``fit_loading`` get 0).
    """

    shares: dict[str, float]
    fit_loading: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_shares("Categorical.shares", self.shares)
        extra = sorted(set(self.fit_loading) - set(self.shares))
        check(not extra, f"Categorical.fit_loading.{extra[0] if extra else ''} is not a value in shares")


@dataclass(frozen=True, slots=True, kw_only=True)
class CompanySize:
    """Employees: log-normal, ``log(n) = log(median) + fit_loading * z + sigma * e``, clipped."""

    median_employees: float = 150.0
    sigma: float = 1.3
    fit_loading: float = 0.7
    max_employees: float = 300_000.0

    def __post_init__(self) -> None:
        check(
            self.median_employees >= 1,
            f"CompanySize.median_employees must be >= 1, got {self.median_employees}",
        )
        check(self.sigma >= 0, f"CompanySize.sigma must be >= 0, got {self.sigma}")
        check(
            self.max_employees >= self.median_employees,
            "CompanySize.max_employees must be >= CompanySize.median_employees",
        )
        check_numbers(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Population:
    """Who the leads are: source mix, lead type, fit attributes and hidden latent traits.

    Each lead has a latent fit ``z ~ N(source_fit_shift[source], 1)`` and a latent intent
    ``u = source_intent_shift[source] + campaign shift + existing_customer_intent_shift *
    [existing] + rho * (z - shift) + sqrt(1 - rho^2) * e``. Fit tilts the categorical
    attributes and company size; intent drives the behaviour stream. A share of leads has
    bad contact data (wrong phone or e-mail), more often with free or disposable domains.
    """

    sources: dict[str, float] = field(
        default_factory=lambda: {
            "organic_search": 0.22,
            "paid_search": 0.14,
            "paid_social": 0.10,
            "content_syndication": 0.14,
            "webinar": 0.08,
            "events": 0.07,
            "referral": 0.07,
            "direct": 0.10,
            "partner": 0.08,
        }
    )
    source_fit_shift: dict[str, float] = field(
        default_factory=lambda: {
            "paid_social": -0.3,
            "content_syndication": -0.4,
            "webinar": 0.1,
            "events": 0.2,
            "referral": 0.5,
            "direct": 0.1,
            "partner": 0.4,
        }
    )
    source_intent_shift: dict[str, float] = field(
        default_factory=lambda: {
            "organic_search": 0.1,
            "paid_search": 0.3,
            "paid_social": -0.3,
            "content_syndication": -0.6,
            "webinar": 0.2,
            "referral": 0.4,
            "direct": 0.5,
            "partner": 0.2,
        }
    )
    existing_customer_share: float = 0.10
    existing_customer_intent_shift: float = 0.3
    fit_intent_correlation: float = 0.3
    job_level: Categorical = Categorical(
        shares={
            "c_level": 0.05,
            "vp": 0.08,
            "director": 0.15,
            "manager": 0.27,
            "individual_contributor": 0.35,
            "student": 0.10,
        },
        fit_loading={"c_level": 1.0, "vp": 1.0, "director": 0.8, "manager": 0.4, "student": -1.0},
    )
    industry: Categorical = Categorical(
        shares={
            "software": 0.22,
            "financial_services": 0.14,
            "healthcare": 0.11,
            "manufacturing": 0.14,
            "retail": 0.10,
            "education": 0.09,
            "public_sector": 0.07,
            "other": 0.13,
        },
        fit_loading={
            "software": 0.6,
            "financial_services": 0.5,
            "healthcare": 0.3,
            "manufacturing": 0.2,
            "education": -0.4,
            "public_sector": -0.3,
            "other": -0.3,
        },
    )
    region: Categorical = Categorical(
        shares={"north_america": 0.45, "emea": 0.30, "apac": 0.15, "latam": 0.10},
        fit_loading={"north_america": 0.3, "emea": 0.2, "apac": -0.1, "latam": -0.2},
    )
    email_domain: Categorical = Categorical(
        shares={"business": 0.70, "personal": 0.25, "disposable": 0.05},
        fit_loading={"business": 0.5, "personal": -0.5, "disposable": -1.5},
    )
    company_size: CompanySize = CompanySize()
    bad_data_share: dict[str, float] = field(
        default_factory=lambda: {
            "business": 0.03,
            "personal": 0.10,
            "disposable": 0.60,
        }
    )

    def __post_init__(self) -> None:
        check_shares("Population.sources", self.sources)
        for name in ("source_fit_shift", "source_intent_shift"):
            extra = sorted(set(getattr(self, name)) - set(self.sources))
            check(not extra, f"Population.{name}.{extra[0] if extra else ''} is not a source")
        check_probability("Population.existing_customer_share", self.existing_customer_share)
        check(
            -1 < self.fit_intent_correlation < 1,
            f"Population.fit_intent_correlation must be in (-1, 1), got {self.fit_intent_correlation}",
        )
        domains = set(self.email_domain.shares)
        check(
            set(self.bad_data_share) == domains,
            f"Population.bad_data_share must give a share for every e-mail domain "
            f"{sorted(domains)}, got {sorted(self.bad_data_share)}",
        )
        for key, value in self.bad_data_share.items():
            check_probability(f"Population.bad_data_share.{key}", value)
        check_numbers(self)

    def categorical(self, name: str) -> Categorical:
        """The spec of a categorical fit attribute (job_level, industry, region, email_domain)."""
        return getattr(self, name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Behaviour:
    """The behaviour stream: a buyer journey through awareness, consideration and decision.

    A lead is active for ``L ~ Exp(mean_active_days * exp(active_days_intent_slope * u))``
    days (at most ``max_active_days``). It reaches consideration with probability
    ``sigmoid(consideration_logit + consideration_slope * u)`` after ``Exp(days_to_consideration)``
    days, and then decision likewise. In each stage, events of each kind arrive as a Poisson
    process at ``rates[kind][stage] * exp(intent_sensitivity[kind] * u)`` a day. Leads with bad
    e-mail data click no e-mails.
    """

    mean_active_days: float = 30.0
    max_active_days: float = 120.0
    active_days_intent_slope: float = 0.3
    consideration_logit: float = -0.3
    consideration_slope: float = 1.0
    days_to_consideration: float = 8.0
    decision_logit: float = -1.0
    decision_slope: float = 1.2
    days_to_decision: float = 10.0
    rates: dict[str, tuple[float, float, float]] = field(
        default_factory=lambda: {
            "page_view": (0.20, 0.35, 0.35),
            "pricing_page_view": (0.004, 0.04, 0.10),
            "email_click": (0.04, 0.06, 0.04),
            "form_submission": (0.01, 0.025, 0.035),
            "early_content_download": (0.03, 0.035, 0.01),
            "late_content_download": (0.0, 0.015, 0.035),
            "webinar": (0.004, 0.015, 0.01),
            "demo_request": (0.0, 0.002, 0.015),
        }
    )
    intent_sensitivity: dict[str, float] = field(
        default_factory=lambda: {
            "page_view": 0.35,
            "pricing_page_view": 0.5,
            "email_click": 0.3,
            "form_submission": 0.35,
            "early_content_download": 0.2,
            "late_content_download": 0.45,
            "webinar": 0.35,
            "demo_request": 0.6,
        }
    )

    def __post_init__(self) -> None:
        for name in ("mean_active_days", "max_active_days", "days_to_consideration", "days_to_decision"):
            value = getattr(self, name)
            check(value > 0, f"Behaviour.{name} must be > 0, got {value}")
        check(
            set(self.rates) == set(EVENT_KINDS),
            f"Behaviour.rates must give rates for exactly the event kinds {list(EVENT_KINDS)}, "
            f"got {sorted(self.rates)}",
        )
        for kind, values in self.rates.items():
            check(min(values) >= 0, f"Behaviour.rates.{kind} must be >= 0, got {values}")
        extra = sorted(set(self.intent_sensitivity) - set(EVENT_KINDS))
        check(not extra, f"Behaviour.intent_sensitivity.{extra[0] if extra else ''} is not an event kind")
        check_numbers(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Truth:
    """The hidden truth: each lead's chance to buy if a rep touches it at once.

    ``logit = intercept + weights[attr][value] (summed over categorical attributes, source and
    lead_type) + company_size_per_log10 * log10(employees) + sum_c behaviour_weights[c] *
    log1p(count_c) + noise_sd * e``, with counts over the lead's whole behaviour stream, and
    ``p_buy = (1 - bad_data) * sigmoid(logit)``. Values missing from ``weights`` weigh 0.

    The chance splits into the funnel's stages as ``p = p**a_connect * p**a_fit * p**a_bant *
    p**a_opportunity * p**a_won`` with ``stage_exponents`` adding up to 1, so a better lead is
    likelier at every stage. Fit and BANT are drawn once per lead (hidden until a rep talks
    to it); connecting, the opportunity and the win are drawn when a rep works it.
    """

    intercept: float = -7.5
    weights: dict[str, dict[str, float]] = field(
        default_factory=lambda: {
            "source": {
                "referral": 0.4,
                "partner": 0.3,
                "direct": 0.2,
                "paid_search": 0.1,
                "paid_social": -0.2,
                "content_syndication": -0.5,
            },
            "lead_type": {"existing_customer": 0.8},
            "job_level": {"c_level": 0.9, "vp": 1.0, "director": 0.7, "manager": 0.3, "student": -1.5},
            "industry": {
                "software": 0.5,
                "financial_services": 0.4,
                "healthcare": 0.2,
                "manufacturing": 0.2,
                "education": -0.4,
                "public_sector": -0.2,
                "other": -0.2,
            },
            "region": {"north_america": 0.2, "emea": 0.1, "apac": -0.1, "latam": -0.3},
            "email_domain": {"business": 0.4, "personal": -0.3, "disposable": -1.2},
        }
    )
    company_size_per_log10: float = 0.35
    behaviour_weights: dict[str, float] = field(
        default_factory=lambda: {
            "page_views": 0.15,
            "pricing_page_views": 0.4,
            "email_clicks": 0.2,
            "form_submissions": 0.3,
            "early_content_downloads": 0.05,
            "late_content_downloads": 0.4,
            "webinars": 0.4,
            "demo_requests": 0.9,
        }
    )
    noise_sd: float = 0.5
    stage_exponents: dict[str, float] = field(
        default_factory=lambda: {
            "connect": 0.15,
            "fit": 0.10,
            "bant": 0.15,
            "opportunity": 0.15,
            "won": 0.45,
        }
    )

    def __post_init__(self) -> None:
        check(self.noise_sd >= 0, f"Truth.noise_sd must be >= 0, got {self.noise_sd}")
        extra = sorted(set(self.weights) - {"source", "lead_type", *CATEGORICAL_ATTRIBUTES})
        check(not extra, f"Truth.weights.{extra[0] if extra else ''} is not a categorical column")
        extra = sorted(set(self.behaviour_weights) - set(BEHAVIOUR_COLUMNS))
        check(not extra, f"Truth.behaviour_weights.{extra[0] if extra else ''} is not a count column")
        stages = {"connect", "fit", "bant", "opportunity", "won"}
        check(
            set(self.stage_exponents) == stages,
            f"Truth.stage_exponents must name exactly {sorted(stages)}, got {sorted(self.stage_exponents)}",
        )
        for key, value in self.stage_exponents.items():
            check(value >= 0, f"Truth.stage_exponents.{key} must be >= 0, got {value}")
        total = sum(self.stage_exponents.values())
        check(abs(total - 1) < 1e-6, f"Truth.stage_exponents must add up to 1, got {total:.6g}")
        check_numbers(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """The whole simulated world (see the module docstring for the default).

    Examples
    --------
    >>> s = Scenario()
    >>> s.arrivals.leads_per_month, s.months
    (3000.0, 12)
    >>> busier = s.replace(arrivals=dataclasses.replace(s.arrivals, leads_per_month=4500))
    >>> Scenario.from_toml(busier.to_toml()) == busier
    True
    """

    name: str = "default"
    description: str = "B2B software seller, about 3,000 new leads a month, one year"
    start: str = "2026-01-01"
    months: int = 12
    timezone: str = "America/New_York"
    arrivals: Arrivals = Arrivals()
    population: Population = Population()
    behaviour: Behaviour = Behaviour()
    truth: Truth = Truth()
    rules: ScoringRules = field(default_factory=default_rules)
    team: Team = Team()
    sla: SLA = SLA()
    funnel: Funnel = Funnel()

    def __post_init__(self) -> None:
        _parse_date("Scenario.start", self.start)
        check(1 <= self.months <= 120, f"Scenario.months must be in [1, 120], got {self.months}")
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"Scenario.timezone {self.timezone!r} is not a known time zone") from None
        sources = set(self.population.sources)
        for c in self.arrivals.campaigns:
            check(
                c.source in sources,
                f"Arrivals.campaigns {c.name!r}: source {c.source!r} is not in Population.sources",
            )
        known = {
            "source": sources,
            "lead_type": set(LEAD_TYPES),
            **{a: set(self.population.categorical(a).shares) for a in CATEGORICAL_ATTRIBUTES},
        }
        for attr, weights in self.truth.weights.items():
            extra = sorted(set(weights) - known[attr])
            check(not extra, f"Truth.weights.{attr}.{extra[0] if extra else ''} is not a value of {attr}")
        columns = set(LEAD_COLUMNS)
        for column in self.rules.columns:
            check(column in columns, f"ScoringRules criterion {column!r} is not a lead-table column")
        check_scenario(self)

    # --- dates --------------------------------------------------------------------------
    @property
    def start_date(self) -> dt.date:
        """The first day of the scenario (minute 0 is its midnight UTC)."""
        return dt.date.fromisoformat(self.start)

    @property
    def end_date(self) -> dt.date:
        """The first day after the simulated period (the history's as-of date)."""
        d = self.start_date
        months = d.month - 1 + self.months
        return d.replace(year=d.year + months // 12, month=months % 12 + 1)

    @property
    def days(self) -> int:
        """Length of the scenario in days."""
        return (self.end_date - self.start_date).days

    # --- what-ifs and files ------------------------------------------------------------
    def replace(self, **changes) -> Scenario:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        """The scenario as plain data (what ``to_toml`` writes)."""
        out = {"format": SCENARIO_FORMAT, **to_dict(self)}
        out["rules"] = to_dict(self.rules)
        return out

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "scenario") -> Scenario:
        """Build a scenario from plain data; keys left out keep their default."""
        data = dict(require_table(data, source))
        fmt = data.pop("format", SCENARIO_FORMAT)
        if fmt != SCENARIO_FORMAT:
            raise SpecError(
                f"{source}: format {fmt!r} is not {SCENARIO_FORMAT!r} (a scenario from another "
                "program, or from a newer leadfunnel)"
            )
        try:
            return from_dict(cls, data)
        except SpecError as exc:
            raise SpecError(f"{source}: {exc}") from None

    def to_toml(self, path: str | os.PathLike | None = None) -> str:
        """The scenario as TOML text; also written atomically to ``path`` when given."""
        text = _toml.dumps(self.to_dict())
        if path is not None:
            write_text_atomic(path, text)
        return text

    @classmethod
    def from_toml(cls, path_or_text: str | os.PathLike) -> Scenario:
        """Read a scenario from a TOML file, or from TOML text (a string with a newline)."""
        if isinstance(path_or_text, str) and "\n" in path_or_text:
            text, source = path_or_text, "scenario TOML"
        else:
            source = str(path_or_text)
            text = read_text(path_or_text, "scenario")
        return cls.from_dict(parse_table(tomllib.loads, text, source, "TOML"), source=source)

    def _repr_html_(self) -> str:
        """The scenario's main knobs as a table (notebooks); ``to_toml()`` gives them all."""
        from simulate._scenario_html import scenario_html

        return scenario_html(self)
