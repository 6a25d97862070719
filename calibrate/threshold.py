"""``recommend``: from a history to the threshold (and points) to put into the CRM.

1. Labels from the history (won within ``horizon_days`` of becoming an MQL) and a fitted
   ``Scorecard`` (unless one is given): every lead's points and chance to win
   (``calibrate.inputs.prepare``).
2. The trade-off table of every distinct score (``calibrate.tradeoffs``), SLA load from the
   analytic queue model, then checked by the queue engine for the thresholds near the best
   (the simulation overrides where ``calibrate.sla.overrides`` says so).
3. The threshold that maximises the objective among those that meet the SLA target with the
   team, or hits a volume or pipeline target with the least load.
4. Optionally, verification (``calibrate.verification``): the recommended rules put back
   into a scenario and simulated.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from calibrate.capacity import HORIZON_DAYS, SalesCapacity
from calibrate.inputs import LeadInputs, as_history, prepare
from calibrate.recommendation import Estimate, Recommendation, fingerprint
from calibrate.scorecard import Scorecard
from calibrate.sla import simulated_load
from calibrate.tradeoffs import Tradeoffs, evaluate_tradeoffs
from simulate.rules import ScoringRules

__all__ = ["EXPECTED", "OBJECTIVES", "SLA_MARGIN", "InfeasibleWarning", "choose", "recommend"]

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
)

SLA_MARGIN = 0.015
"""A threshold counts as meeting the SLA when its expected compliance is at least the target
plus this margin: one year's compliance varies by about a percentage point around its
expectation, so a threshold right at the target would miss it every other year."""


class InfeasibleWarning(UserWarning):
    """No threshold meets the SLA target with this team."""


def choose(
    table: pd.DataFrame,
    *,
    objective: str,
    target: float | None,
    sla_target: float,
    compliance: pd.Series,
    pipeline_factor: float = 1.0,
    sla_margin: float = 0.0,
) -> tuple[int, bool]:
    """Row position of the best threshold, and whether it meets the SLA target (plus margin)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    feasible = (compliance >= sla_target + sla_margin) & (table["utilisation"] < 1) & (table["mqls"] > 0)
    pool = table[feasible] if feasible.any() else table[table["mqls"] > 0]
    if objective in ("revenue", "wins", "sqls"):
        # with objective "sqls" the scorecard learned reaching SQL, so its "wins" are SQLs
        column = "revenue_per_month" if objective == "revenue" else "wins_per_month"
        best = pool[column].idxmax()
    else:
        if target is None:
            raise ValueError(f"objective {objective!r} needs a target (MQLs or pipeline a month)")
        if objective == "volume":
            reach = pool["mqls_per_month"] >= target
        else:
            reach = pool["revenue_per_month"] * pipeline_factor >= target
        # the target with the least load: the highest threshold that still reaches it
        best = pool[reach]["threshold"].idxmax() if reach.any() else pool["mqls_per_month"].idxmax()
    return table.index.get_loc(best), bool(feasible.any())


def recommend(
    history,
    capacity: SalesCapacity,
    *,
    scorecard: Scorecard | None = None,
    objective: str = "revenue",
    target: float | None = None,
    current_rules: ScoringRules | None = None,
    grades: int | None = None,
    horizon_days: float = HORIZON_DAYS,
    simulate_seeds: int | Sequence[int] = 10,
    simulate_nearby: int = 12,
    bootstrap: int = 200,
    sla_margin: float = SLA_MARGIN,
    seed: int = 0,
) -> Recommendation:
    """Recommend the MQL threshold (and points) for this team and SLA.

    Parameters
    ----------
    history : a ``History``, a lead-table DataFrame, a CSV path or a ``simulate.run`` result.
    capacity : the sales side (``calibrate.SalesCapacity``): the team and its SLA, the
        response decay, how reachable the leads are.
    scorecard : fitted points to use; default: fit a ``Scorecard`` to the history.
    objective : ``"revenue"``, ``"wins"`` or ``"sqls"`` (maximised; for SQLs the points are
        fitted to reaching SQL within the horizon), ``"volume"`` (reach ``target`` MQLs
        a month) or ``"pipeline"`` (reach ``target`` of pipeline a month, the revenue-based
        SLA), each subject to the SLA target with this team.
    current_rules : the rules in force, for the "against the current rules" column (scored
        on the history's end totals); default: the history's own MQLs.
    grades : recommend a fit-grade x engagement rule with this many grades instead.
    horizon_days : the outcome window: won within this many days of the MQL moment.
    simulate_seeds, simulate_nearby : check the SLA of the ``simulate_nearby`` thresholds
        around the analytic best with the queue engine on these seeds (a count expands into
        children of ``seed``; 0: analytic only).
    sla_margin : see ``SLA_MARGIN``.
    seed : the root of every random draw (bootstrap, simulated check) and the scorecard's
        ``random_state``.
    """
    history = as_history(history)
    sla = capacity.sla
    inputs = prepare(
        history,
        scorecard=scorecard,
        horizon_days=horizon_days,
        grades=grades,
        random_state=seed,
        target="sql" if objective == "sqls" else "won",
    )
    trade = evaluate_tradeoffs(
        inputs.score,
        inputs.p_win,
        inputs.handoff_min,
        capacity=capacity,
        window=inputs.window,
        amount=inputs.amount,
        historical_wait_min=inputs.historical_wait_min,
        bootstrap=bootstrap,
        seed=seed,
        returns_score=inputs.returns_score,
        returns_handoff_min=inputs.returns_handoff_min,
    )
    table = trade.table
    pick = dict(objective=objective, target=target, sla_target=sla.target, sla_margin=sla_margin)
    pick["pipeline_factor"] = _pipeline_factor(history.leads)
    pos, _ = choose(table, compliance=table["sla_compliance"], **pick)
    if not (isinstance(simulate_seeds, int | np.integer) and simulate_seeds == 0):
        lo, hi = max(0, pos - simulate_nearby // 2), min(len(table), pos + simulate_nearby // 2 + 1)
        near = table["threshold"].to_numpy()[lo:hi]
        load_score, load_handoff = inputs.load_arrays()
        sim = simulated_load(
            load_score, load_handoff, near, capacity=capacity, window=inputs.window, seeds=simulate_seeds, seed=seed
        )
        trade = trade.with_simulation(sim)
        table = trade.table
        pos, feasible = choose(table, compliance=trade.sla_compliance, **pick)
    else:
        feasible = bool((table["sla_compliance"] >= sla.target + sla_margin).any())
    if not feasible:
        warnings.warn(
            f"no threshold meets the SLA target {sla.target:.0%} with {capacity.team.size} reps; the "
            f"recommendation is the best-served threshold (see reps_needed)",
            InfeasibleWarning,
            stacklevel=2,
        )
    threshold = float(table.iloc[pos]["threshold"])
    if grades:
        rules = inputs.scorecard.to_rules(threshold=threshold, grades=grades)
    else:
        rules = inputs.scorecard.to_rules(threshold=threshold)
    leads = history.leads
    return Recommendation(
        rules=rules,
        threshold=threshold,
        objective=objective,
        constraints={
            "reps": capacity.team.size,
            "sla_hours": float(sla.hours),
            "sla_clock": sla.clock,
            "sla_target": float(sla.target),
            "feasible": feasible,
        },
        expected=_figures(table.iloc[pos], trade),
        current=_current(history, inputs, current_rules, capacity),
        seed=seed,
        data_fingerprint=fingerprint(leads),
        history={
            "leads": int(len(leads)),
            "first_created": str(leads["created_at"].min()),
            "as_of": str(history.as_of),
        },
        tradeoffs=trade,
        scorecard=inputs.scorecard,
    )


def _current(history, inputs: LeadInputs, current_rules, capacity: SalesCapacity) -> dict[str, Estimate] | None:
    """The figures of the current MQLs: the current rules', else the history's own."""
    leads = history.leads
    if current_rules is not None:
        mql = current_rules.is_mql(leads)
    elif "mql_at" in leads and leads["mql_at"].notna().any():
        mql = leads["mql_at"].notna().to_numpy()  # what the rules in force did
    else:
        return None
    mql = np.asarray(mql, dtype=bool)
    trade = evaluate_tradeoffs(
        mql.astype(float),
        inputs.p_win,
        inputs.handoff_min,
        capacity=capacity,
        window=inputs.window,
        amount=inputs.amount,
        historical_wait_min=inputs.historical_wait_min,
        thresholds=[1.0],
        bootstrap=0,
        returns_score=None if inputs.returns_score is None else mql[inputs.returns_index].astype(float),
        returns_handoff_min=inputs.returns_handoff_min,
    )
    row = trade.table.iloc[0]
    return {name: Estimate(_f(row[name])) for name in EXPECTED if name in row}


def _pipeline_factor(leads: pd.DataFrame) -> float:
    """Pipeline per unit of expected revenue: 1 / (won opportunities / closed opportunities)."""
    if "opportunity_at" not in leads or "deal_stage" not in leads:
        return 1.0
    stage = leads["deal_stage"].astype("object")
    won, lost = (stage == "closed_won").sum(), (stage == "closed_lost").sum()
    return float((won + lost) / won) if won > 0 else 1.0


def _figures(row: pd.Series, trade: Tradeoffs) -> dict[str, Estimate]:
    out = {}
    for name in EXPECTED:
        if name not in row:
            continue
        value, low, high = row[name], row.get(f"{name}_low"), row.get(f"{name}_high")
        if name == "sla_compliance" and pd.notna(row.get("sim_sla_compliance")):
            value = row["sim_sla_compliance"] if row.get("sla_source") == "simulation" else value
            low, high = row["sim_sla_compliance_low"], row["sim_sla_compliance_high"]
        out[name] = Estimate(_f(value), _f(low), _f(high))
    return out


def _f(x) -> float | None:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None
