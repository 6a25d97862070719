"""A world fitted to a history: reproduce the past before predicting the future.

``fit_world(history)`` learns, from the history where it has the data and otherwise from a
documented prior that it names as assumed:

- arrivals: monthly volume, month, weekday and hour profiles in the history's time zone,
  bursts (``calibrate.world_parts.fit_arrivals``);
- the lead mix and behaviour, as observed: new leads are copies of the history's own leads,
  their events re-timed (``simulate.resample``);
- the team: the reps seen in first touches and the hours they touched leads in;
- the response-time effect: how the chance to qualify falls with the wait, on leads of
  similar score, with an interval (``calibrate.response_effect``);
- the funnel after the touch: each stage's conversion (as the split of each lead's chance
  over the stages), times between stages, deal amounts, time to close.

Each lead's chance to win if touched at once comes from a plain regularised logistic model
of the history's worked leads on everything the history knows about them (the world's
truth may know a lead's whole behaviour; a decision may not), divided by the average
response decay and good-data share the history's waits and contacts cost.

The MQL window (when leads arrived and became MQLs) is told apart from the outcome window
(until the as-of date): the world's year is the MQL window, and outcomes are judged only for
MQLs old enough for the horizon. ``FittedWorld.run(seed)`` simulates one new history;
``calibrate.replay`` checks the world against the past it was fitted to.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import textwrap
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from calibrate.capacity import HORIZON_DAYS, SalesCapacity
from calibrate.inputs import as_history
from calibrate.labels import _clock_start
from calibrate.response_effect import ResponseEffect, fit_response_effect, prior_effect
from calibrate.world_parts import Part, fit_after_touch, fit_arrivals, fit_team, stage_exponents
from calibrate.world_refine import funnel_moments, refine_stages
from calibrate.world_sample import lead_sample, minutes_between
from simulate.calendar import DAYS_PER_MONTH, WorkingCalendar
from simulate.funnel import ResponseDecay
from simulate.resample import LeadSample, run_sample
from simulate.rules import ScoringRules
from simulate.scenario import Population, Scenario
from simulate.table import BEHAVIOUR_COLUMNS, CATEGORICAL_ATTRIBUTES, LIFECYCLE_ORDER, reached_stages

__all__ = ["FittedWorld", "fit_world"]

NO_DECAY = ResponseDecay(phases=(), floor=1.0)
MAX_MODEL_ROWS = 50_000
"""The chance models are fitted on at most this many leads (a random subset)."""

SQL_DAYS = 30.0
"""The response effect is fitted to reaching SQL within this many days of the MQL moment."""


@dataclass(frozen=True, slots=True, eq=False)
class FittedWorld:
    """A world fitted to a history (see the module docstring).

    Attributes
    ----------
    scenario : the fitted ``simulate.Scenario``: arrivals, team, SLA, funnel, rules (its
        population and truth are replaced by ``sample``).
    sample : the history's leads new leads are drawn from, with their chances.
    parts : one row per input: ``part, value, basis`` ("fitted from N leads" or
        "assumed (source)").
    response, win_response : the response-time effect on reaching SQL (the one the world
        uses) and on winning (a check), each with its interval.
    history_rules : the rules in force are not known: leads become MQLs as their history
        copies did (``simulate.resample.run_sample``).
    mql_window : first and last day (UTC dates) leads arrived; ``outcome_end`` the as-of.
    n_leads : leads it was fitted from.
    """

    scenario: Scenario
    sample: LeadSample
    parts: pd.DataFrame
    response: ResponseEffect
    win_response: ResponseEffect
    history_rules: bool
    mql_window: tuple[dt.date, dt.date]
    outcome_end: pd.Timestamp
    n_leads: int
    has_amounts: bool

    @property
    def months(self) -> int:
        return self.scenario.months

    def replace(self, **changes) -> FittedWorld:
        """The world with scenario fields changed (``rules=...`` puts those rules in force)."""
        history_rules = self.history_rules and "rules" not in changes
        return dataclasses.replace(self, scenario=self.scenario.replace(**changes), history_rules=history_rules)

    def with_sla(self, **changes) -> FittedWorld:
        """The world with its SLA's ``hours``, ``clock``, ``target`` or ``breach`` changed; the
        business clock stays the team's fitted hours."""
        return self.replace(sla=dataclasses.replace(self.scenario.sla, **changes))

    def run(self, seed: int = 0):
        """One new history of this world (a ``simulate.RunResult``)."""
        return run_sample(self.scenario, self.sample, seed, history_rules=self.history_rules)

    def capacity(self, **changes) -> SalesCapacity:
        """The world's team, SLA and funnel as a ``SalesCapacity`` (its contact shares by
        default; ``recommend`` learns them per lead)."""
        return SalesCapacity.from_scenario(self.scenario, **changes)

    def summary(self) -> str:
        """Every input, fitted or assumed, in lines under 80 columns."""
        first, last = self.mql_window
        lines = [
            f"World fitted to {self.n_leads:,} leads: MQL window {first} to {last}, "
            f"outcomes to {self.outcome_end.date()}",
        ]
        for row in self.parts.itertuples():
            lines.append(f"  {row.part}: {row.value}")
            lines.append(f"      {row.basis}")
        return "\n".join(wrap80(line) for line in lines)

    def __repr__(self) -> str:
        return f"FittedWorld(leads={self.n_leads:,}, months={self.months}, reps={self.scenario.team.size})"


def wrap80(line: str) -> str:
    """A line of a summary folded at 80 columns, its continuation indented under it."""
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    return "\n".join(textwrap.wrap(line, width=80, subsequent_indent=indent, break_on_hyphens=False)) or line


def fit_world(
    history,
    *,
    rules: ScoringRules | None = None,
    prior: Scenario | None = None,
    sla=None,
    timezone: str | None = None,
    horizon_days: float = HORIZON_DAYS,
    bootstrap: int = 100,
    refine: bool = True,
    seed: int = 0,
) -> FittedWorld:
    """Fit a world to ``history`` (module docstring).

    Parameters
    ----------
    history : a ``History``, a lead table, a CSV path or a ``simulate.run`` result.
    rules : the scoring rules the history was made with, if known (else its MQL moments
        are replayed as they were).
    prior : the scenario whose settings stand where the history is silent (default
        ``Scenario()``), each named as assumed.
    sla : the SLA to hold the team to (default the prior's, on the team's hours).
    timezone : the zone the history's times of day are read in (default the mapping's).
    horizon_days : the outcome window (won within this many days of the MQL moment).
    bootstrap : resamples for the response effect's interval.
    refine : replay the history in the world and move the stage conversions until the
        replay shows the history's (``calibrate.world_refine``).
    seed : seed of the bootstrap and the model's fit.
    """
    history = as_history(history)
    prior = Scenario() if prior is None else prior
    leads = history.leads.reset_index(drop=True)
    if len(leads) == 0:
        raise ValueError("fit_world: the history has no leads")
    tz = timezone or getattr(history.mapping, "timezone", None) or "UTC"
    as_of = pd.Timestamp(history.as_of)
    created = leads["created_at"]
    first_day = created.min().tz_convert("UTC").date()
    last_day = created.max().tz_convert("UTC").date()
    days = (last_day - first_day).days + 1
    months = max(1, min(120, math.ceil(days / DAYS_PER_MONTH - 0.1)))
    parts: list[Part] = []

    local = created.dt.tz_convert(tz)
    local_first = local.min().date()
    arrivals, p = fit_arrivals(leads, tz, local_first, (local.max().date() - local_first).days + 1)
    parts += p
    team, p = fit_team(leads, tz, prior.team)
    parts += p
    team = _with_holidays(team, leads, first_day, days, parts)

    worked, is_mql, start, _ = _clock_start(leads)
    X = _design(leads)
    wait = minutes_between(leads.get("first_touch_at"), start)
    reason = (
        leads["recycled_reason"].astype("object") if "recycled_reason" in leads else pd.Series(None, index=leads.index)
    )
    touched = np.isfinite(wait)
    bad = (reason == "bad_data").to_numpy()
    won_in = _within(leads.get("customer_at"), start, horizon_days)
    judged = worked & (start <= as_of - pd.Timedelta(days=horizon_days)).to_numpy(dtype=bool, na_value=False)
    p_model, n_model = _chance(X, won_in, judged, seed)
    parts.append(_chance_part(n_model, int(won_in[judged].sum())))

    response, win_response, sql_logit = _effects(
        leads, X, start, wait, touched, bad, as_of, won_in, judged, bootstrap, seed, p_model
    )
    parts.append(
        Part("response-time effect", _effect_text(response), response.fitted, response.n_leads, response.source)
    )
    good = touched & ~bad
    stages = _stages(leads, judged & good, reason)
    decays = _stage_decays(response, _stages(leads, judged & good, reason, first_trip=True), sql_logit, wait)
    at_wait = np.where(touched, wait, 0.0)
    d = {name: decay(at_wait) for name, decay in decays.items()}
    overall = response.decay(at_wait)
    bad_share = _bad_share(leads, touched, bad)
    pool = judged & good
    scale = float(np.mean(overall[pool])) if pool.any() else 1.0
    good_share = 1.0 - (float(bad[judged & touched].mean()) if (judged & touched).any() else 0.0)
    p0 = np.clip(p_model / max(scale * max(good_share, 1e-6), 1e-6), 1e-7, 0.95)
    exponents, p = _exponents(stages, p0, d, prior)
    parts += p

    funnel, p = fit_after_touch(leads, prior.funnel)
    parts += p
    funnel = dataclasses.replace(funnel, connect_decay=decays["fit"], qualify_decay=decays.get("bant", NO_DECAY))
    sample = lead_sample(history, leads, p0, bad_share, is_mql, exponents, seed)
    sources = pd.Series(sample.source).value_counts(normalize=True).sort_index()
    source_shares = {sample.categories["source"][i]: float(v) for i, v in sources.items()}
    sla = sla if sla is not None else dataclasses.replace(prior.sla, calendar=_team_calendar(team, tz))
    scenario = prior.replace(
        name="fitted",
        description=f"fitted to {history.source}",
        start=first_day.isoformat(),
        months=months,
        timezone=tz,
        arrivals=arrivals,
        population=Population(sources=source_shares, source_fit_shift={}, source_intent_shift={}),
        truth=dataclasses.replace(prior.truth, weights={}),  # the sample's chances stand for it
        team=team,
        sla=sla,
        funnel=funnel,
        rules=rules if rules is not None else prior.rules,
    )
    parts.append(
        Part(
            "lead mix and behaviour",
            f"{len(leads):,} leads resampled by source, events as observed"
            + ("" if history.events is not None else " (counts at the MQL moment)"),
            True,
            len(leads),
            "",
        )
    )
    parts.append(
        Part(
            "scoring rules in force",
            "given" if rules is not None else "not given: MQL moments replayed as recorded",
            rules is None,
            int(is_mql.sum()),
            "given",
        )
    )
    has_amounts = "amount" in leads and pd.to_numeric(leads["amount"], errors="coerce").notna().any()
    world = FittedWorld(
        scenario=scenario,
        sample=sample,
        parts=_parts_frame(parts),
        response=response,
        win_response=win_response,
        history_rules=rules is None,
        mql_window=(first_day, last_day),
        outcome_end=as_of,
        n_leads=len(leads),
        has_amounts=bool(has_amounts),
    )
    if refine and stages is not None and "first_touch_at" in leads and "recycled_reason" in leads:
        world, gap = refine_stages(world, funnel_moments(leads), seed=seed)
        refined = Part(
            "funnel: stage conversions",
            f"refined by replaying the history: within {gap:.1%}",
            True,
            int(is_mql.sum()),
            "",
        )
        world = dataclasses.replace(world, parts=pd.concat([world.parts, _parts_frame([refined])], ignore_index=True))
    return world


def _parts_frame(parts: list[Part]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "part": [x.part for x in parts],
            "value": [x.value for x in parts],
            "basis": [x.basis for x in parts],
            "fitted": [x.fitted for x in parts],
            "n": [x.n for x in parts],
        }
    )


def _within(event, start: pd.Series, horizon_days: float) -> np.ndarray:
    if event is None:
        return np.zeros(len(start), dtype=bool)
    gap = (event - start) / pd.Timedelta(days=1)
    return (gap <= horizon_days).to_numpy(dtype=bool, na_value=False)


def _design(leads: pd.DataFrame) -> np.ndarray:
    """Features of the world's chance model: one-hot categories (blank its own column),
    log1p behaviour counts, log company size with a blank indicator."""
    cols = []
    for name in ("source", "lead_type", *CATEGORICAL_ATTRIBUTES):
        if name in leads:
            codes, _ = pd.factorize(leads[name].astype("object"), use_na_sentinel=True)
            k = codes.max() + 2
            onehot = np.zeros((len(leads), k))
            onehot[np.arange(len(leads)), np.where(codes < 0, k - 1, codes)] = 1.0
            cols.append(onehot)
    for name in BEHAVIOUR_COLUMNS:
        if name in leads:
            cols.append(
                np.log1p(pd.to_numeric(leads[name], errors="coerce").fillna(0).clip(lower=0).to_numpy(float))[:, None]
            )
    if "company_size" in leads:
        size = pd.to_numeric(leads["company_size"], errors="coerce").to_numpy(dtype=float)
        known = np.isfinite(size) & (size > 0)
        log_size = np.where(known, np.log10(np.where(known, size, 1.0)), 0.0)
        cols.append(np.column_stack([log_size - log_size[known].mean() if known.any() else log_size, ~known]))
    return np.hstack(cols) if cols else np.ones((len(leads), 1))


def _chance(X: np.ndarray, y: np.ndarray, fit_on: np.ndarray, seed: int) -> tuple[np.ndarray, int]:
    """Each lead's chance of ``y`` from a regularised logistic model of the ``fit_on`` leads
    (their share for everyone where the outcome has one kind only)."""
    n = int(fit_on.sum())
    if n == 0:
        return np.full(len(y), 0.0), 0
    yy = y[fit_on]
    if yy.all() or not yy.any():
        return np.full(len(y), float(yy.mean())), n
    rows = np.flatnonzero(fit_on)
    if rows.size > MAX_MODEL_ROWS:  # a random subset fits the same few dozen weights
        rows = np.sort(np.random.default_rng([seed, 11]).choice(rows, MAX_MODEL_ROWS, replace=False))
    model = LogisticRegression(C=1.0, max_iter=500, random_state=seed)
    model.fit(X[rows], y[rows])
    return model.predict_proba(X)[:, 1], n


def _chance_part(n: int, wins: int) -> Part:
    if n == 0:
        return Part("chance to win", "no judged worked leads", False, 0, "none: the world wins nothing")
    return Part("chance to win", f"{wins:,} wins of {n:,} judged worked leads", True, n, "")


def _effects(leads, X, start, wait, touched, bad, as_of, won_in, judged, bootstrap, seed, p_model):
    """The response effect on SQL (within ``SQL_DAYS``, first trip) and on winning (on the
    chance-to-win model's logit, ``p_model``)."""
    if not touched.any():
        reason = "the history has no first-touch times"
        return prior_effect("sql", reason), prior_effect("won", reason), None
    sql_at = leads.get("sql_at")
    if sql_at is None:
        sql_at = leads.get("opportunity_at", leads.get("customer_at"))
    first_trip = np.ones(len(leads), dtype=bool)
    if "returned_at" in leads and sql_at is not None:
        first_trip = ~(leads["returned_at"] <= sql_at).to_numpy(dtype=bool, na_value=False)
    sql = _within(sql_at, start, SQL_DAYS) & first_trip
    old = (start <= as_of - pd.Timedelta(days=SQL_DAYS)).to_numpy(dtype=bool, na_value=False)
    pool = touched & ~bad & old
    logit = _logit(_chance(X, sql, pool, seed)[0])
    response = fit_response_effect(
        wait[pool], sql[pool], logit[pool], outcome_name="sql", bootstrap=bootstrap, rng=seed
    )
    pool_won = touched & ~bad & judged
    won_logit = _logit(p_model)
    won_first = won_in
    if "returned_at" in leads and "customer_at" in leads:  # won on the trip the wait acted on
        won_first = won_in & ~(leads["returned_at"] <= leads["customer_at"]).to_numpy(dtype=bool, na_value=False)
    win_response = fit_response_effect(
        wait[pool_won],
        won_first[pool_won],
        won_logit[pool_won],
        outcome_name="won",
        bootstrap=bootstrap // 2,
        rng=seed + 1,
    )
    return response, win_response, logit


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def _effect_text(e: ResponseEffect) -> str:
    i = {h: k for k, h in enumerate(e.hours)}
    parts = [
        f"{h:g} h {e.share[i[h]]:.0%}" + (f" ({e.low[i[h]]:.0%}-{e.high[i[h]]:.0%})" if e.fitted else "")
        for h in (1.0, 8.0, 24.0)
    ]
    return "left after " + ", ".join(parts)


def _bad_share(leads: pd.DataFrame, touched: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Chance of bad contact data: as observed for touched leads, else the touched leads'
    share of their e-mail domain (or of all)."""
    out = bad.astype(float)
    if not touched.any():
        return np.zeros(len(leads))
    overall = float(bad[touched].mean())
    untouched = ~touched
    if "email_domain" in leads:
        domain = leads["email_domain"].astype("object").fillna("(blank)")
        share = pd.Series(bad[touched]).groupby(domain[touched].to_numpy()).mean()
        out[untouched] = domain[untouched].map(share).fillna(overall).to_numpy(dtype=float)
    else:
        out[untouched] = overall
    return out


def _stages(leads, pool, reason, first_trip: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """Per stage of the funnel, the judged worked leads at its start and those that passed
    (``None`` where the history lacks the stage dates). A lead counts at a stage when that
    stage or a later one is dated (``simulate.table.reached_stages``): an export without SQL
    dates still has its opportunities. ``first_trip``: only when it got there before it was
    first returned to sales (``_first_trip_reached``)."""
    cols = ("sal_at", "sql_at", "opportunity_at", "customer_at")
    if any(c not in leads for c in cols) or not pool.any() or leads["customer_at"].isna().all():
        return None
    reached = _first_trip_reached(leads) if first_trip else reached_stages(leads)
    sal, sql, opp, won = (reached[c].to_numpy() for c in cols)
    r = reason.to_numpy()
    connected = pool & (r != "unreachable")
    existing = (leads["lead_type"].astype("object") == "existing_customer").to_numpy()
    return {
        "connect": (pool, connected),
        "fit": (connected & ~existing, sal),
        "bant": (sal & pool, sql),
        "opportunity": (sql & pool, opp),
        "won": (opp & pool, won),
    }


def _first_trip_reached(leads: pd.DataFrame) -> pd.DataFrame:
    """``simulate.table.reached_stages`` on the first trip to sales only: a stage counts when
    it (or a later one) is dated before the lead came back from nurture.

    The wait to the first touch acts on the first trip; a lead recycled after a long wait
    that qualifies on its second trip (with a wait of its own) is not a pass of the first,
    and counting it as one flattens the fitted decay.
    """
    stages = [c for c in LIFECYCLE_ORDER if c in leads.columns]
    back = leads["returned_at"] if "returned_at" in leads else pd.Series(pd.NaT, index=leads.index)
    reached, earliest = {}, pd.Series(pd.NaT, index=leads.index, dtype=back.dtype)
    for column in reversed(stages):
        earliest = earliest.where(earliest.notna() & ~(leads[column] < earliest), leads[column])
        reached[column] = (earliest.notna() & ~(back <= earliest)).to_numpy(dtype=bool, na_value=False)
    return pd.DataFrame({c: reached[c] for c in stages}, index=leads.index)


def _stage_decays(response: ResponseEffect, stages, logit, wait) -> dict[str, ResponseDecay]:
    """Where the world applies the wait's effect: at acceptance (keen when reached) and at
    qualification, each fitted to its own stage on leads of similar score (``logit``, the
    chance to reach SQL); without the stage dates, or where a stage has too few outcomes,
    the whole effect at acceptance."""
    if stages is None or not response.fitted or logit is None:
        return {"fit": response.decay}
    out = {}
    for name in ("fit", "bant"):
        at_risk, passed = stages[name]
        effect = fit_response_effect(wait[at_risk], passed[at_risk], logit[at_risk], outcome_name=name, bootstrap=0)
        if not effect.fitted:
            return {"fit": response.decay}
        out[name] = effect.decay
    return out


def _exponents(stages, p0, d, prior: Scenario) -> tuple[dict, list[Part]]:
    """Stage exponents from the history's stage conversions of judged worked leads."""
    defaults = dict(prior.truth.stage_exponents)
    if stages is None:
        return defaults, [
            Part("funnel: stage conversions", "Truth defaults", False, 0, "the history lacks stage dates")
        ]
    fitted = stage_exponents(p0, d, stages)
    out = {k: (v if np.isfinite(v) else defaults[k]) for k, v in fitted.items()}
    text = ", ".join(f"{k} {passed[at].mean():.0%}" for k, (at, passed) in stages.items() if at.any())
    return out, [Part("funnel: stage conversions", text, True, int(stages["connect"][0].sum()), "")]


def _team_calendar(team, tz: str) -> WorkingCalendar:
    """One calendar spanning the team's hours, in the zone most of its reps work in: the
    SLA's business clock."""
    cals = team.calendars
    zones = [c.timezone for c in cals]
    zone = max(set(zones), key=zones.count) if zones else tz
    same = [c for c in cals if c.timezone == zone] or list(cals)
    holidays = tuple(sorted(set.intersection(*(set(c.holidays) for c in same)))) if same else ()
    return WorkingCalendar(
        timezone=zone,
        weekdays=tuple(sorted({d for c in same for d in c.weekdays})),
        start_hour=min(c.start_hour for c in same),
        end_hour=max(c.end_hour for c in same),
        holidays=holidays,
    )


def _with_holidays(team, leads, first_day, days, parts):
    """Working weekdays on which nobody touched a lead, amid days with many touches: the
    team's holidays."""
    if not team.roster or "first_touch_at" not in leads:
        return team
    zone = team.calendars[0].timezone
    touch_day = leads["first_touch_at"].dropna().dt.tz_convert(zone).dt.date
    per_day = touch_day.value_counts()
    working = {d for c in team.calendars for d in c.weekdays}
    dates = [first_day + dt.timedelta(days=i) for i in range(days)]
    typical = float(per_day.median()) if len(per_day) else 0.0
    if typical < 5:
        return team
    off = tuple(d.isoformat() for d in dates if d.weekday() in working and per_day.get(d, 0) == 0)
    # a gap at either end of the window is the window, not a holiday
    seen = sorted(per_day.index)
    off = tuple(d for d in off if seen and seen[0].isoformat() < d < seen[-1].isoformat())
    if not off:
        return team
    roster = tuple(dataclasses.replace(r, calendar=dataclasses.replace(r.calendar, holidays=off)) for r in team.roster)
    parts.append(Part("team: holidays", f"{len(off)} working days without a touch", True, int(len(touch_day)), ""))
    return dataclasses.replace(team, roster=roster)
