"""``recommend``: from a history to the threshold (and points) to put into the CRM.

1. Labels from the history (won within ``horizon_days`` of becoming an MQL) and a fitted
   ``Scorecard`` (unless one is given): every lead's points and chance to win
   (``calibrate.inputs.prepare``).
2. The trade-off table of every distinct score (``calibrate.tradeoffs``), SLA load from the
   analytic queue model, then checked by the queue engine for the thresholds near the best
   (the simulation overrides where ``calibrate.sla.overrides`` says so).
3. The threshold that maximises the objective among those whose SLA compliance a new year
   meets with ``sla_confidence`` (the expected compliance less the one-sided normal
   quantile times ``sla_compliance_sd``, the spread of a new year), or hits a volume or
   pipeline target with the least load. Wins are credited only for leads the history
   worked (``LeadInputs.credited_p_win``).
4. Optionally, verification (``calibrate.verification``): the recommended rules put back
   into a scenario and simulated.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from calibrate.baseline import current_baseline, expected_uplift
from calibrate.capacity import HORIZON_DAYS, SLA_CONFIDENCE, SalesCapacity
from calibrate.inputs import LeadInputs, as_history, prepare
from calibrate.policy_tournament import choose_routing
from calibrate.provenance import recommendation_inputs
from calibrate.recommendation import Estimate, Recommendation, fingerprint
from calibrate.report_data import data_quality, model_checks
from calibrate.scorecard import Scorecard
from calibrate.shape import check_decision, threshold_floor
from calibrate.sla import simulated_load, simulated_reps_needed, validity
from calibrate.tradeoffs import Tradeoffs, candidate_thresholds, evaluate_tradeoffs
from calibrate.world import FittedWorld, fit_world
from simulate.rules import ScoringRules
from simulate.team import SLA

__all__ = ["EXPECTED", "OBJECTIVES", "SLA_CONFIDENCE", "InfeasibleWarning", "choose", "recommend", "sla_floor"]

OBJECTIVES = ("revenue", "wins", "sqls", "volume", "pipeline")
EXPECTED = (
    "mqls_per_month",
    "sla_compliance",
    "utilisation",
    "median_response_hours",
    "p90_response_hours",
    "precision",
    "recall",
    "wins_per_month",
    "revenue_per_month",
    "revenue_lost_per_month",
    "reps_needed",
    "unworked_mqls_per_month",
    "extrapolated_share",
    "extrapolated_wins_per_month",
    "extrapolated_revenue_per_month",
)


def sla_floor(table: pd.DataFrame, confidence: float) -> pd.Series:
    """The SLA compliance a new year reaches with ``confidence``, per threshold.

    The trusted compliance less ``norm.ppf(confidence)`` times ``sla_compliance_sd`` (the
    spread of a new year, see ``calibrate.tradeoffs``); the compliance itself where the table
    has no spread.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"sla_confidence must be in (0, 1), got {confidence!r}")
    sd = table["sla_compliance_sd"] if "sla_compliance_sd" in table else 0.0
    return table["sla_compliance"] - float(norm.ppf(confidence)) * sd


class InfeasibleWarning(UserWarning):
    """No threshold meets the SLA target with this team."""


def _check_objective(objective: str, target: float | None) -> None:
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if objective in ("volume", "pipeline") and target is None:
        raise ValueError(f"objective {objective!r} needs a target (MQLs or pipeline a month)")


def choose(
    table: pd.DataFrame,
    *,
    objective: str,
    target: float | None,
    sla_target: float,
    compliance: pd.Series,
    pipeline_factor: float = 1.0,
    min_threshold: float = -np.inf,
) -> tuple[int, bool]:
    """Row position of the best threshold, and whether it meets the SLA target.

    ``compliance`` is what each threshold is held to (``sla_floor`` for a stated confidence);
    only thresholds of at least ``min_threshold`` may be chosen (``calibrate.shape``: an MQL
    list allows a higher threshold, not a lower one).
    """
    _check_objective(objective, target)
    allowed = (table["threshold"] >= min_threshold) & (table["mqls"] > 0)
    allowed = allowed if allowed.any() else table["mqls"] > 0
    feasible = (compliance >= sla_target) & (table["utilisation"] < 1) & allowed
    pool = table[feasible] if feasible.any() else table[allowed]
    if objective in ("revenue", "wins", "sqls"):
        # with objective "sqls" the scorecard learned reaching SQL, so its "wins" are SQLs
        column = "revenue_per_month" if objective == "revenue" else "wins_per_month"
        best = pool[column].idxmax()
    else:
        if objective == "volume":
            reach = pool["mqls_per_month"] >= target
        else:
            reach = pool["revenue_per_month"] * pipeline_factor >= target
        # the target with the least load: the highest threshold that still reaches it
        best = pool[reach]["threshold"].idxmax() if reach.any() else pool["mqls_per_month"].idxmax()
    return table.index.get_loc(best), bool(feasible.any())


def recommend(
    history,
    capacity: SalesCapacity | None = None,
    *,
    world="fit",
    sla: SLA | None = None,
    scorecard: Scorecard | None = None,
    objective: str = "revenue",
    target: float | None = None,
    current_rules: ScoringRules | None = None,
    grades: int | None = None,
    horizon_days: float = HORIZON_DAYS,
    simulate_seeds: int | Sequence[int] = 10,
    simulate_nearby: int = 12,
    bootstrap: int = 200,
    sla_confidence: float = SLA_CONFIDENCE,
    credit_unworked: bool = False,
    score_until: str = "as_of",
    reachability: bool = True,
    exploration: str | np.ndarray | None = None,
    exploration_share: float | str | np.ndarray | None = None,
    currency: str = "USD",
    routing="keep",
    seed: int = 0,
) -> Recommendation:
    """Recommend the MQL threshold (and points) for this team and SLA.

    Parameters
    ----------
    history : a ``History``, a lead-table DataFrame, a CSV path or a ``simulate.run`` result.
    capacity : the sales side (``calibrate.SalesCapacity``): the team and its SLA, the
        response decay, how reachable the leads are. Given, it wins over the fitted world;
        default: the fitted world's team and response-time effect, with ``sla``.
    world : ``"fit"`` (default) to fit a world to the history (``calibrate.fit_world``,
        with ``current_rules`` as the rules in force), a ``FittedWorld``, or ``None`` for
        none (then ``capacity`` is required). The recommendation carries it
        (``Recommendation.world``): ``calibrate.verify`` runs in it by default.
    sla : the SLA to hold the fitted world's team to, when no ``capacity`` is given
        (default: the world's, ``simulate.SLA()`` on the team's fitted hours; its calendar
        is the business clock, so ``FittedWorld.with_sla`` keeps the team's).
    scorecard : fitted points to use; default: fit a ``Scorecard`` to the history.
    objective : ``"revenue"``, ``"wins"`` or ``"sqls"`` (maximised; for SQLs the points are
        fitted to reaching SQL within the horizon), ``"volume"`` (reach ``target`` MQLs
        a month) or ``"pipeline"`` (reach ``target`` of pipeline a month, the revenue-based
        SLA), each subject to the SLA target with this team.
    current_rules : the rules in force, for the "against the current rules" column (scored
        through the history's events as the CRM does, else on its counts); default: the
        history's own MQLs. Judged by the same model as every candidate.
    grades : recommend a fit-grade x engagement rule with this many grades instead.
    horizon_days : the outcome window: won within this many days of the MQL moment.
    simulate_seeds, simulate_nearby : check the SLA of the ``simulate_nearby`` thresholds
        around the analytic best with the queue engine on these seeds (a count expands into
        children of ``seed``; 0: analytic only).
    sla_confidence : the chance that a new year meets the SLA target (see ``sla_floor``).
    credit_unworked : count the extrapolated chance of leads the history never worked
        (default: their load counts, their wins do not; see ``LeadInputs.credited_p_win``).
    score_until : see ``calibrate.inputs.prepare``.
    reachability : give each lead its own contact rate and bad-data share, learned from the
        history's first touches (``calibrate.reachability``), instead of the capacity's one
        rate: better leads are reached sooner and cost less work.
    exploration, exploration_share : an exploration sample in the history (below-threshold
        leads worked at random, see ``calibrate.make_labels`` and
        ``calibrate.exploration_plan``): weighted in the fit, and the regions of the score
        it covers no longer count as extrapolated.
    currency : ISO code of the history's deal amounts, shown with every revenue figure.
    routing : the queue policy: ``"keep"`` the team's own; ``"choose"`` the best of a
        tournament of ``simulate.POLICIES`` (every policy x threshold on the same seeds,
        ``calibrate.tournament``) under the SLA constraint, or of a sequence of policies;
        or one ``simulate.Policy``. The threshold is then chosen with that policy, the
        config, the report and the CRM export carry its rule (``Recommendation.routing``),
        and ``verify`` runs both rule sets under it.
    seed : the root of every random draw (bootstrap, simulated check) and the scorecard's
        ``random_state``.
    """
    if capacity is not None and not isinstance(capacity, SalesCapacity):
        raise TypeError(
            f"recommend: capacity must be a calibrate.SalesCapacity, got {capacity!r}; build one "
            "with SalesCapacity().with_reps(6).with_sla_hours(24), or SalesCapacity(team=simulate.Team(reps=6), "
            "sla=simulate.SLA(hours=24))"
        )
    _check_objective(objective, target)  # before any work: a typo is one quick error
    currency = _currency(currency)
    history = as_history(history)
    check_decision(history.shape, history.source)
    capacity_given = capacity is not None
    world = _world_for(history, world, capacity, sla, current_rules, horizon_days, seed)
    if capacity is None:
        if world is None:
            raise TypeError("recommend needs a capacity (calibrate.SalesCapacity) when world=None")
        capacity = world.capacity()
    elif sla is not None:
        raise TypeError("recommend takes sla= only without a capacity (the capacity has its SLA)")
    has_amounts = _has_amounts(history.leads)
    if objective == "revenue" and not has_amounts:
        warnings.warn(
            "the history has no deal amounts: the objective is wins, and no revenue is shown",
            UserWarning,
            stacklevel=2,
        )
        objective = "wins"
    sla = capacity.sla
    inputs = prepare(
        history,
        scorecard=scorecard,
        horizon_days=horizon_days,
        grades=grades,
        random_state=seed,
        target="sql" if objective == "sqls" else "won",
        score_until=score_until,
        exploration=exploration,
        exploration_share=exploration_share,
    )
    if reachability:
        capacity = inputs.with_reachability(capacity)
    capacity, routing_record, routing_tournament = choose_routing(
        inputs,
        capacity,
        routing,
        objective=objective,
        sla_confidence=sla_confidence,
        seeds=simulate_seeds,
        seed=seed,
    )
    sla = capacity.sla
    pick = dict(objective=objective, target=target, sla_target=sla.target)
    pick["min_threshold"] = threshold_floor(history.shape, inputs.score[inputs.worked])
    pick["pipeline_factor"] = _pipeline_factor(history.leads)
    table_of = dict(capacity=capacity, bootstrap=bootstrap, seed=seed, credit_unworked=credit_unworked)
    inputs, trade, pos, feasible, valid = _choose_threshold(
        inputs, pick, table_of, sla_confidence, simulate_seeds, simulate_nearby, seed
    )
    table = trade.table
    threshold = float(table.iloc[pos]["threshold"])
    if grades:
        rules = inputs.scorecard.to_rules(threshold=threshold, grades=grades)
    else:
        rules = inputs.scorecard.to_rules(threshold=threshold)
    base = current_baseline(
        history,
        inputs,
        current_rules,
        trade,
        credit_unworked=credit_unworked,
        simulate_seeds=simulate_seeds,
        seed=seed,
        untrusted=not valid.settings_trusted,
    )
    row, keep = table.iloc[pos], _keep_current(base, table.iloc[pos], objective, sla.target, sla_confidence, feasible)
    if keep:
        rules, threshold, row, feasible = base.rules, float(base.rules.mql_threshold), base.row, True
    elif row.get("sla_source") == "simulation":  # the analytic team size no longer holds: the simulation's
        row = row.copy()
        row["reps_needed"] = simulated_reps_needed(
            *inputs.load_arrays(),
            threshold,
            capacity=trade.capacity,
            window=inputs.window,
            seeds=simulate_seeds,
            seed=seed,
        )
    uplift = None
    if base is not None:
        counted = base.mql if keep else inputs.counted_by(inputs.score >= threshold)
        uplift = expected_uplift(
            inputs, counted, row, base, credit_unworked=credit_unworked, kept_history=trade.kept_history
        )
    leads = history.leads
    expected, current = _figures(row, trade), None if base is None else _figures(base.row, trade)
    if not has_amounts:
        expected, current = _without_money(expected), _without_money(current)
        uplift = _without_money(uplift)
    return Recommendation(
        rules=rules,
        threshold=threshold,
        objective=objective,
        constraints={
            "reps": capacity.team.size,
            "sla_hours": float(sla.hours),
            "sla_clock": sla.clock,
            "sla_target": float(sla.target),
            "sla_confidence": float(sla_confidence),
            "sla_spread": _spread_source(table),
            "feasible": feasible,
            "point_in_time": bool(inputs.point_in_time),
            "credit_unworked": bool(credit_unworked),
            "sla_model": "analytic" if valid.settings_trusted else "simulation",
            "sla_model_reasons": list(valid.reasons),
            "kept_current_rules": bool(keep),
            **_current_threshold(current_rules),
            **({"target": float(target)} if target is not None else {}),
        },
        expected=expected,
        current=current,
        uplift=uplift,
        seed=seed,
        data_fingerprint=fingerprint(leads),
        history={
            "leads": int(len(leads)),
            "first_created": str(leads["created_at"].min()),
            "as_of": str(history.as_of),
        },
        tradeoffs=trade,
        scorecard=inputs.scorecard,
        current_rules=current_rules,
        world=world,
        inputs=recommendation_inputs(
            history, inputs, capacity, capacity_given=capacity_given, world=world, has_amounts=has_amounts
        ),
        monitor_reference=_monitor_reference(history, rules, capacity, horizon_days, row, inputs),
        currency=currency,
        routing=routing_record,
        tournament=routing_tournament,
        data_quality=data_quality(history),
        model_checks=model_checks(inputs, leads),
    )


def _monitor_reference(history, rules, capacity, horizon_days, row, inputs) -> dict | None:
    """What ``calibrate.monitor`` compares a new month with (``calibrate.monitor_reference``);
    ``None`` for a two-axis rule, whose score is not one number."""
    if rules.grades is not None:
        return None
    from calibrate.monitor_reference import monitor_reference

    sd = row.get("sla_compliance_sd")
    sd = float(sd) if sd is not None and pd.notna(sd) else None
    chance = pd.Series(inputs.p_win, index=history.leads["lead_id"].to_numpy())
    return monitor_reference(
        history, rules, capacity, horizon_days=horizon_days, sla_compliance_sd_year=sd, out_of_fold=chance
    )


def _current_threshold(rules: ScoringRules | None) -> dict:
    """The rules in force's threshold, for the report and the plots (none for grades)."""
    if rules is None or rules.mql_threshold is None:
        return {}
    return {"current_threshold": float(rules.mql_threshold)}


def _currency(code: str) -> str:
    if not (isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isupper()):
        raise ValueError(f"currency must be a three-letter ISO code such as 'USD' or 'EUR', got {code!r}")
    return code


def _world_for(history, world, capacity, sla, current_rules, horizon_days, seed):
    """The fitted world ``recommend`` runs in (see its ``world`` parameter)."""
    if world is None:
        return world
    if isinstance(world, FittedWorld):
        return world.replace(sla=sla) if sla is not None and capacity is None else world
    if not (isinstance(world, str) and world == "fit"):
        raise TypeError(f"world must be 'fit', a calibrate.FittedWorld or None, got {world!r}")
    sla = capacity.sla if capacity is not None else sla
    return fit_world(
        history, rules=current_rules, sla=sla, horizon_days=horizon_days, bootstrap=WORLD_BOOTSTRAP, seed=seed
    )


WORLD_BOOTSTRAP = 50
"""Resamples for the fitted world's response-time interval within ``recommend``."""

MONEY = ("revenue_per_month", "revenue_lost_per_month")


def _has_amounts(leads: pd.DataFrame) -> bool:
    """Whether the history has deal amounts of won deals (else revenue is not money)."""
    if "amount" not in leads or "customer_at" not in leads:
        return False
    return bool((leads["customer_at"].notna() & pd.to_numeric(leads["amount"], errors="coerce").notna()).any())


def _without_money(figures: dict | None) -> dict | None:
    return None if figures is None else {k: v for k, v in figures.items() if k not in MONEY}


def _spread_source(table: pd.DataFrame) -> str:
    """Where the year-to-year SLA spread comes from: ``"simulated"`` seeds, or the
    ``"binomial"`` lower bound (no simulated check; the confidence may be overstated)."""
    sd = table.get("sim_sla_compliance_sd")
    return "simulated" if sd is not None and np.isfinite(sd.to_numpy(float)).any() else "binomial"


def _choose_threshold(inputs: LeadInputs, pick: dict, table_of: dict, sla_confidence, seeds, nearby, seed):
    """The trade-off table and the row chosen on it: analytic, then at the handoff moments of
    that first choice, then with the simulated check (see ``recommend``); warns when no
    threshold is feasible or the analytic model is used outside its validity unchecked."""
    capacity = table_of["capacity"]
    trade = _table(inputs, **table_of)
    pos, feasible = choose(trade.table, compliance=sla_floor(trade.table, sla_confidence), **pick)
    if inputs.path is not None:
        # hand each lead over when its score first reaches the threshold chosen, as the CRM
        # will, and choose again on the table of those moments
        inputs = inputs.with_handoff_for(float(trade.table.iloc[pos]["threshold"]))
        trade = _table(inputs, **table_of)
        pos, feasible = choose(trade.table, compliance=sla_floor(trade.table, sla_confidence), **pick)
    valid = validity(capacity, inputs.window)
    if not (isinstance(seeds, int | np.integer) and seeds == 0):
        trade, pos, feasible = _simulated_check(trade, inputs, valid, pos, pick, sla_confidence, seeds, nearby, seed)
    elif not valid.trusted_at(trade.table["utilisation"].iloc[pos]):
        warnings.warn(
            "the analytic SLA model is outside the domain where it was checked against the "
            f"simulation ({'; '.join(valid.reasons) or 'utilisation above 0.75'}), and "
            "simulate_seeds=0 skips the simulated check: the SLA figures may be off by more than 0.03",
            UserWarning,
            stacklevel=3,
        )
    if not feasible:
        sla = capacity.sla
        warnings.warn(
            f"no threshold meets the SLA target {sla.target:.0%} in {sla_confidence:.0%} of years "
            f"with {capacity.team.size} reps; the recommendation is the best-served threshold "
            "(see reps_needed)",
            InfeasibleWarning,
            stacklevel=3,
        )
    return inputs, trade, pos, feasible, valid


def _table(inputs: LeadInputs, *, capacity, bootstrap, seed, credit_unworked) -> Tradeoffs:
    """The analytic trade-off table of the inputs' leads (each threshold valued on held-out
    outcomes, ``LeadInputs.threshold_values``)."""
    p, amount = inputs.threshold_values(credit_unworked)
    return evaluate_tradeoffs(
        inputs.score,
        p,
        inputs.handoff_min,
        capacity=capacity,
        window=inputs.window,
        amount=amount,
        historical_wait_min=inputs.historical_wait_min,
        bootstrap=bootstrap,
        seed=seed,
        returns_score=inputs.returns_score,
        returns_handoff_min=inputs.returns_handoff_min,
        returns_value=inputs.return_values(),
        unworked=~inputs.outcome_known,
        extrapolated_p=inputs.plausible_high_p(),
        amount_dispersion=inputs.amount_dispersion,
    )


def _simulated_check(trade, inputs, valid, pos, pick, sla_confidence, seeds, nearby, seed):
    """Simulate the thresholds around the pick (and, where the analytic model is not
    trusted, a spread of them), merge, and choose again among the figures to trust.

    A threshold the analytic model is not trusted at (``calibrate.sla.validity``) takes every
    figure from the simulation; one that was not simulated cannot be chosen. When the pick
    moves onto thresholds not yet simulated, their neighbourhood is simulated once more.
    """
    table = trade.table
    thresholds = table["threshold"].to_numpy()
    untrusted = ~valid.trusted_at(table["utilisation"].to_numpy())
    load_score, load_handoff = inputs.load_arrays()
    done = np.zeros(len(table), dtype=bool)
    sims = []
    for _ in range(2):
        want = np.zeros(len(table), dtype=bool)
        want[max(0, pos - nearby // 2) : pos + nearby // 2 + 1] = True
        if untrusted.any() and not done.any():
            spread = candidate_thresholds(thresholds[untrusted], max_count=24)
            want |= np.isin(thresholds, spread)
        want &= ~done
        if not want.any():
            break
        sims.append(
            simulated_load(
                load_score,
                load_handoff,
                thresholds[want],
                capacity=trade.capacity,
                window=inputs.window,
                seeds=seeds,
                seed=seed,
                weights=trade.weights,
            )
        )
        done |= want
        trade = trade.with_simulation(
            pd.concat(sims, ignore_index=True), force=thresholds[untrusted & done], fill=thresholds[untrusted]
        )
        floor = sla_floor(trade.table, sla_confidence).where(~untrusted | done, np.nan)
        pos, feasible = choose(trade.table, compliance=floor, **pick)
        if done[pos] or not untrusted[pos]:
            break
    return trade, pos, feasible


def _keep_current(base, best: pd.Series, objective: str, target: float, confidence: float, feasible: bool) -> bool:
    """Whether the rules in force beat every candidate: they meet the SLA with the stated
    confidence and give at least the best candidate's revenue (or wins), on the same model.

    Only for rules given as ``ScoringRules`` and a maximised objective: a recommendation never
    asks for a change its own model says is worse.
    """
    if base is None or base.rules is None or objective not in ("revenue", "wins", "sqls"):
        return False
    column = "revenue_per_month" if objective == "revenue" else "wins_per_month"
    frame = base.row.to_frame().T.astype({"sla_compliance": float, "sla_compliance_sd": float})
    meets = bool(sla_floor(frame, confidence).iloc[0] >= target) and float(base.row["utilisation"]) < 1
    return meets and (not feasible or float(base.row[column]) >= float(best[column]))


def _pipeline_factor(leads: pd.DataFrame) -> float:
    """Pipeline per unit of expected revenue: 1 / (won opportunities / closed opportunities)."""
    if "opportunity_at" not in leads or "deal_stage" not in leads:
        return 1.0
    stage = leads["deal_stage"].astype("object")
    won, lost = (stage == "closed_won").sum(), (stage == "closed_lost").sum()
    return float((won + lost) / won) if won > 0 else 1.0


def _figures(row: pd.Series, trade: Tradeoffs) -> dict[str, Estimate]:
    """The row's figures: the expected value's interval and, where there is one, the range
    of a new year (SLA compliance: the normal range from ``sla_compliance_sd``)."""
    out = {}
    z = float(norm.ppf(0.5 + trade.confidence / 2))
    for name in EXPECTED:
        if name not in row:
            continue
        value, low, high = row[name], row.get(f"{name}_low"), row.get(f"{name}_high")
        year_low, year_high = row.get(f"{name}_year_low"), row.get(f"{name}_year_high")
        if name == "sla_compliance":
            if row.get("sla_source") == "simulation":  # the seeds' range where they supply it
                low, high = row["sim_sla_compliance_low"], row["sim_sla_compliance_high"]
            if pd.notna(row.get("sla_compliance_sd")):
                year_low = max(0.0, value - z * row["sla_compliance_sd"])
                year_high = min(1.0, value + z * row["sla_compliance_sd"])
        out[name] = Estimate(_f(value), _f(low), _f(high), _f(year_low), _f(year_high))
    return out


def _f(x) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None
