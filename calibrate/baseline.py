"""The rules in force, judged exactly as every candidate is, and the uplift over them.

A recommendation is only as good as its comparison. The current rules' MQLs (those the rules
make MQLs through the history's events, as the CRM scores them, or else the history's own
MQLs) go through the same model as every candidate threshold: the same leads, the same
point-in-time chances, handoff moments, window, credited outcomes and SLA model (with the
simulation where it is asked for or where the analytic model is not trusted). Only which leads
are MQLs differs, so the baseline has no bias of its own.

:func:`expected_uplift` gives the claimed gain with its own interval: the two rule sets share
most of their MQLs, and only the leads in one set but not the other carry the noise of the
outcomes the chances were learned from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from calibrate.inputs import LeadInputs
from calibrate.point_in_time import rules_mql
from calibrate.recommendation import Estimate
from calibrate.sla import simulated_load, simulated_reps_needed
from calibrate.tradeoffs import Tradeoffs, evaluate_tradeoffs
from simulate.rules import ScoringRules

__all__ = ["UPLIFT_CONFIDENCE", "Baseline", "current_baseline", "expected_uplift"]

UPLIFT_CONFIDENCE = 0.95
"""The level of the expected uplift's interval (that of ``calibrate.verification.paired_uplift``)."""


@dataclass(frozen=True, slots=True, eq=False)
class Baseline:
    """The rules in force on the trade-off table's model.

    ``mql`` says which leads they make MQLs; ``row`` is their one-row trade-off table (the
    columns of ``Tradeoffs.table``); ``rules`` are the rules if they were given (else the
    history's own MQLs stand for them).
    """

    mql: np.ndarray
    row: pd.Series
    rules: ScoringRules | None


def current_baseline(
    history,
    inputs: LeadInputs,
    current_rules: ScoringRules | None,
    trade: Tradeoffs,
    *,
    credit_unworked: bool,
    simulate_seeds,
    seed: int,
    untrusted: bool,
) -> Baseline | None:
    """The current rules judged like the candidates of ``trade`` (None without a baseline).

    With a simulated check (``simulate_seeds``), the baseline is simulated on the same
    seeds; where ``untrusted`` (the analytic model is outside its validity) the simulation
    supplies every figure. Its new year's SLA spread is at least the one the candidates of a
    similar volume have.
    """
    leads = history.leads
    window = inputs.window
    if current_rules is not None and history.events is not None:
        at = rules_mql(current_rules, leads, history.events, history.as_of, moments=True)
        mql = at.notna().to_numpy()
        moment = window.minutes(at)
    elif current_rules is not None:
        mql = rules_mql(current_rules, leads, None, history.as_of)
        moment = np.full(len(leads), np.nan)
    elif inputs.old_mql is not None and inputs.old_mql.any():
        mql = inputs.old_mql
        moment = window.minutes(leads["mql_at"])
    else:
        return None
    mql = np.asarray(mql, dtype=bool)
    # its MQLs are handed over when its own rules make them MQLs
    handoff = np.where(mql & np.isfinite(moment), np.clip(moment, 0, window.end_minutes - 1), inputs.handoff_min)
    one = evaluate_tradeoffs(
        mql.astype(float),
        inputs.outcome_values(credit_unworked),
        handoff,
        capacity=trade.capacity,
        window=inputs.window,
        amount=inputs.amount,
        historical_wait_min=inputs.historical_wait_min,
        thresholds=[1.0],
        bootstrap=0,
        confidence=trade.confidence,
        returns_score=None if inputs.returns_score is None else _made_returns(inputs, mql),
        returns_handoff_min=inputs.returns_handoff_min,
        unworked=~inputs.outcome_known,
        extrapolated_p=inputs.plausible_high_p(),
        amount_dispersion=inputs.amount_dispersion,
        kept_weight=inputs.credited_p_win(credit_unworked),
    )
    if not (isinstance(simulate_seeds, int | np.integer) and simulate_seeds == 0):
        load, trips = mql, handoff  # the simulated check hands them over at their own moments too
        if inputs.returns_score is not None:
            load = np.concatenate([mql, _made_returns(inputs, mql)])
            trips = np.concatenate([handoff, inputs.returns_handoff_min])
        sim = simulated_load(
            load.astype(float),
            trips,
            [1.0],
            capacity=trade.capacity,
            window=inputs.window,
            seeds=simulate_seeds,
            seed=seed,
            weights=one.weights,
        )
        one = one.with_simulation(sim, force=[1.0] if untrusted else ())
    row = one.table.iloc[0].copy()
    if row.get("sla_source") == "simulation":  # the analytic team size no longer holds: the simulation's
        row["reps_needed"] = simulated_reps_needed(
            load.astype(float), trips, 1.0, capacity=trade.capacity, window=window, seeds=simulate_seeds, seed=seed
        )
    row["sla_compliance_sd"] = max(float(row["sla_compliance_sd"]), _spread_at(trade.table, row["mqls_per_month"]))
    return Baseline(mql=mql, row=row, rules=current_rules)


def _spread_at(table: pd.DataFrame, volume: float) -> float:
    """The candidates' new year's SLA spread at this volume (interpolated over MQLs a month)."""
    t = table.dropna(subset=["sla_compliance_sd"]).sort_values("mqls_per_month")
    if t.empty:
        return 0.0
    return float(np.interp(volume, t["mqls_per_month"], t["sla_compliance_sd"]))


def _made_returns(inputs: LeadInputs, mql: np.ndarray) -> np.ndarray:
    """The rules in force's trips back, as scores on the MQL flag: the returns the history made
    (``LeadInputs.returns_happened``), not those another threshold would bring."""
    made = True if inputs.returns_happened is None else inputs.returns_happened
    return np.where(made, mql[inputs.returns_index], 0.0).astype(float)


def expected_uplift(
    inputs: LeadInputs,
    counted: np.ndarray,
    chosen_row: pd.Series,
    base: Baseline,
    *,
    credit_unworked: bool,
    kept_history: float,
) -> dict[str, Estimate]:
    """The claimed gain of the chosen rules over the baseline's, with its interval.

    ``counted`` marks the leads whose outcomes the chosen row counts
    (``LeadInputs.counted_by``: for a threshold on fitted points, the held-out fold
    selections). The value is the difference of the two rows. Its interval: both rows count
    outcomes of one history, and the two sets share most leads, so the difference carries
    the outcome noise of the leads in one set only (a Bernoulli draw each, ``E[y^2] = p``;
    revenue ``p v^2`` times the deal-size dispersion) at that set's value kept, and of the
    shared leads at the difference of the two values kept, over the months; SLA compliance
    and MQLs have no interval here (the verification measures them).
    """
    p = inputs.credited_p_win(credit_unworked)
    months = inputs.window.months
    kept_new = float(chosen_row["value_kept"]) / kept_history
    kept_old = float(base.row["value_kept"]) / kept_history
    weight = np.where(counted, kept_new, 0.0) - np.where(base.mql, kept_old, 0.0)
    variance = {
        "wins_per_month": float(np.sum(p * weight**2)) / months**2,
        "revenue_per_month": float(np.sum(p * inputs.amount**2 * weight**2)) * inputs.amount_dispersion / months**2,
    }
    z = float(norm.ppf(0.5 + UPLIFT_CONFIDENCE / 2))
    out = {}
    for name in ("mqls_per_month", "sla_compliance", "wins_per_month", "revenue_per_month"):
        value = float(chosen_row[name]) - float(base.row[name])
        if name in variance and np.isfinite(value):
            half = z * float(np.sqrt(variance[name]))
            out[name] = Estimate(value, value - half, value + half)
        else:
            out[name] = Estimate(value if np.isfinite(value) else None)
    return out
