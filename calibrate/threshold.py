"""``recommend``: from a history to the threshold (and points) to put into the CRM.

1. Labels from the history (won within ``horizon_days`` of becoming an MQL) and a fitted
   ``Scorecard`` (unless one is given): every lead's points and chance to win.
2. The trade-off table of every distinct score (``calibrate.tradeoffs``), SLA load from the
   analytic queue model, then checked by the queue engine for the thresholds near the best
   (the simulation wins where they disagree).
3. The threshold that maximises the objective among those that meet the SLA target with the
   team, or hits a volume or pipeline target with the least load.
4. Optionally, verification: the recommended rules put back into a scenario and simulated.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd

from calibrate.history import History, load_history
from calibrate.labels import make_labels
from calibrate.load import simulated_load
from calibrate.recommendation import Estimate, Recommendation, fingerprint
from calibrate.scorecard import Scorecard
from calibrate.tradeoffs import Tradeoffs, evaluate_tradeoffs
from simulate.funnel import Funnel
from simulate.rules import ScoringRules
from simulate.team import SLA, Team

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


class InfeasibleWarning(UserWarning):
    """No threshold meets the SLA target with this team."""


@dataclasses.dataclass(frozen=True, slots=True)
class Inputs:
    """What the trade-offs are computed from, one entry per lead of the history."""

    score: np.ndarray
    p_win: np.ndarray
    handoff_min: np.ndarray
    amount: np.ndarray
    historical_wait_min: np.ndarray
    start: Any
    days: int
    scorecard: Scorecard
    grade_offset: np.ndarray | None = None
    returns_score: np.ndarray | None = None
    returns_handoff_min: np.ndarray | None = None
    returns_index: np.ndarray | None = None


def _as_history(history) -> History:
    if isinstance(history, History):
        return history
    return load_history(history)


def prepare(
    history,
    *,
    scorecard: Scorecard | None = None,
    horizon_days: float = 90.0,
    target: str = "won",
    grades: int | None = None,
    random_state: int = 0,
) -> Inputs:
    """Fit (or use) a scorecard and compute every lead's score, chance, handoff and amount."""
    history = _as_history(history)
    leads = history.leads
    if scorecard is None:
        labels = make_labels(history, target=target, horizon_days=horizon_days)
        scorecard = Scorecard(random_state=random_state).fit(labels.X, labels.y, labels.sample_weight)
    features = list(scorecard.feature_names_in_)
    missing = [f for f in features if f not in leads.columns]
    if missing:
        raise ValueError(f"the history lacks the scorecard's feature column {missing[0]!r}")
    X = leads[features]
    points = scorecard.predict_points(X).astype(float)
    p = scorecard.predict_proba(X)[:, 1]

    start = leads["created_at"].min().tz_convert("UTC").normalize()
    as_of = pd.Timestamp(history.as_of).tz_convert("UTC") if history.as_of is not None else leads["created_at"].max()
    days = max(1, int(np.ceil((as_of - start).total_seconds() / 86400.0)))
    created = (leads["created_at"] - start).dt.total_seconds().to_numpy() / 60.0
    handoff = created.copy()
    if "mql_at" in leads and leads["mql_at"].notna().any():
        mql = (leads["mql_at"] - start).dt.total_seconds().to_numpy() / 60.0
        delay = np.nanmedian(mql - created)
        handoff = np.where(np.isfinite(mql), mql, created + delay)
    handoff = np.clip(handoff, 0, days * 1440.0 - 1)

    waits = np.zeros(0)
    if {"first_touch_at", "mql_at"} <= set(leads.columns):
        waits = ((leads["first_touch_at"] - leads["mql_at"]).dt.total_seconds() / 60.0).to_numpy(float)
        waits = waits[np.isfinite(waits) & (waits >= 0)]
    amount = _expected_amount(leads)
    # leads that came back from nurture were handed to sales twice: their second trip is load
    back = np.zeros(len(leads), dtype=bool)
    if "returned_at" in leads:
        back = leads["returned_at"].notna().to_numpy()
    returned = (
        (leads.loc[back, "returned_at"] - start).dt.total_seconds().to_numpy() / 60.0 if back.any() else np.zeros(0)
    )

    grade_offset = None
    if grades:
        # two axes: a lead passes the fit-grade x engagement rule made from threshold T iff
        # T <= engagement + (lowest fit score of its grade), a single threshold on that sum
        rules = scorecard.to_rules(threshold=0.0, grades=grades)
        fit = rules.fit_points(leads)
        engagement = rules.engagement_points(leads)
        lowest = -np.asarray(rules.grades.engagement_thresholds, dtype=float)
        grade_offset = lowest[rules.grades.grade(fit)]
        points = engagement + grade_offset
    return Inputs(
        score=points,
        p_win=p,
        handoff_min=handoff,
        amount=amount,
        historical_wait_min=waits,
        start=start.date(),
        days=days,
        scorecard=scorecard,
        grade_offset=grade_offset,
        returns_score=points[back],
        returns_handoff_min=np.clip(returned, 0, days * 1440.0 - 1),
        returns_index=np.flatnonzero(back),
    )


def _expected_amount(leads: pd.DataFrame) -> np.ndarray:
    """Expected deal amount per lead: the mean won amount of its lead type (else overall)."""
    n = len(leads)
    if "amount" not in leads or "customer_at" not in leads:
        return np.ones(n)
    won = leads["customer_at"].notna() & leads["amount"].notna()
    if not won.any():
        return np.ones(n)
    overall = float(leads.loc[won, "amount"].mean())
    if "lead_type" in leads:
        by_type = leads.loc[won].groupby(leads.loc[won, "lead_type"].astype("object"))["amount"].mean()
        return leads["lead_type"].astype("object").map(by_type).fillna(overall).to_numpy(float)
    return np.full(n, overall)


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
    *,
    team: Team,
    sla: SLA,
    funnel: Funnel | None = None,
    scorecard: Scorecard | None = None,
    objective: str = "revenue",
    target: float | None = None,
    current_rules: ScoringRules | None = None,
    grades: int | None = None,
    horizon_days: float = 120.0,
    contact_rate: float = 0.68,
    simulate_seeds: int = 10,
    simulate_nearby: int = 12,
    bootstrap: int = 200,
    sla_margin: float = 0.015,
    seed: int = 0,
) -> Recommendation:
    """Recommend the MQL threshold (and points) for this team and SLA.

    Parameters
    ----------
    history : a ``History``, a lead-table DataFrame, a CSV path or a ``simulate.run`` result.
    team, sla : the sales team and its promise; ``funnel`` gives the response-time decay.
    scorecard : fitted points to use; default: fit a ``Scorecard`` to the history.
    objective : ``"revenue"``, ``"wins"`` or ``"sqls"`` (maximised; for SQLs the points are
        fitted to reaching SQL within the horizon), ``"volume"`` (reach ``target`` MQLs
        a month) or ``"pipeline"`` (reach ``target`` of pipeline a month, the revenue-based
        SLA), each subject to the SLA target with this team.
    current_rules : the rules in force, for the "against the current rules" column (scored
        on the history's end totals); default: the history's own MQLs.
    grades : recommend a fit-grade x engagement rule with this many grades instead.
    simulate_seeds, simulate_nearby : check the SLA of the ``simulate_nearby`` thresholds
        around the analytic best with the queue engine on that many seeds (0: analytic only).
    sla_margin : a threshold counts as meeting the SLA when its expected compliance is at
        least ``target + sla_margin``: one year's compliance varies by about a percentage
        point around its expectation, so a recommendation right at the target would miss it
        every other year.
    """
    funnel = funnel or Funnel()
    history = _as_history(history)
    rng = np.random.default_rng(seed)
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
        team=team,
        sla=sla,
        funnel=funnel,
        start=inputs.start,
        days=inputs.days,
        amount=inputs.amount,
        historical_wait_min=inputs.historical_wait_min,
        contact_rate=contact_rate,
        bootstrap=bootstrap,
        rng=rng,
        returns_score=inputs.returns_score,
        returns_handoff_min=inputs.returns_handoff_min,
    )
    table = trade.table
    pipeline_factor = _pipeline_factor(history.leads)
    pos, _ = choose(
        table,
        objective=objective,
        target=target,
        sla_target=sla.target,
        compliance=table["sla_compliance"],
        pipeline_factor=pipeline_factor,
        sla_margin=sla_margin,
    )
    if simulate_seeds:
        lo, hi = max(0, pos - simulate_nearby // 2), min(len(table), pos + simulate_nearby // 2 + 1)
        near = table["threshold"].to_numpy()[lo:hi]
        load_score, load_handoff = inputs.score, inputs.handoff_min
        if inputs.returns_score is not None:
            load_score = np.concatenate([load_score, inputs.returns_score])
            load_handoff = np.concatenate([load_handoff, inputs.returns_handoff_min])
        sim = simulated_load(
            load_score,
            load_handoff,
            near,
            team=team,
            sla=sla,
            funnel=funnel,
            start=inputs.start,
            days=inputs.days,
            seeds=simulate_seeds,
            contact_rate=contact_rate,
        )
        table = _merge_simulation(table, sim, trade.confidence)
        trade = dataclasses.replace(trade, table=table)
        pos, feasible = choose(
            table,
            objective=objective,
            target=target,
            sla_target=sla.target,
            compliance=trade.sla_compliance,
            pipeline_factor=pipeline_factor,
            sla_margin=sla_margin,
        )
    else:
        feasible = bool((table["sla_compliance"] >= sla.target + sla_margin).any())
    if not feasible:
        warnings.warn(
            f"no threshold meets the SLA target {sla.target:.0%} with {team.size} reps; the "
            f"recommendation is the best-served threshold (see reps_needed)",
            InfeasibleWarning,
            stacklevel=2,
        )
    row = table.iloc[pos]
    threshold = float(row["threshold"])
    if grades:
        rules = inputs.scorecard.to_rules(threshold=threshold, grades=grades)
    else:
        rules = inputs.scorecard.to_rules(threshold=threshold)
    expected = _figures(row, trade)
    current = None
    if current_rules is not None:
        current_mql = current_rules.is_mql(history.leads)
    elif "mql_at" in history.leads and history.leads["mql_at"].notna().any():
        current_mql = history.leads["mql_at"].notna().to_numpy()  # what the rules in force did
    else:
        current_mql = None
    if current_mql is not None:
        current = _current_figures(inputs, np.asarray(current_mql, dtype=bool), team, sla, funnel, contact_rate)
    leads = history.leads
    return Recommendation(
        rules=rules,
        threshold=threshold,
        objective=objective,
        constraints={
            "reps": team.size,
            "sla_hours": float(sla.hours),
            "sla_clock": sla.clock,
            "sla_target": float(sla.target),
            "feasible": feasible,
        },
        expected=expected,
        current=current,
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


def _pipeline_factor(leads: pd.DataFrame) -> float:
    """Pipeline per unit of expected revenue: 1 / (won opportunities / closed opportunities)."""
    if "opportunity_at" not in leads or "deal_stage" not in leads:
        return 1.0
    stage = leads["deal_stage"].astype("object")
    won, lost = (stage == "closed_won").sum(), (stage == "closed_lost").sum()
    return float((won + lost) / won) if won > 0 else 1.0


def _merge_simulation(table: pd.DataFrame, sim: pd.DataFrame, confidence: float) -> pd.DataFrame:
    table = table.drop(columns=[c for c in table if c.startswith("sim_") or c == "sla_source"])
    alpha = (1 - confidence) / 2
    g = sim.groupby("threshold")
    parts = pd.DataFrame(
        {
            "sim_sla_compliance": g["sla_compliance"].mean(),
            "sim_sla_compliance_low": g["sla_compliance"].quantile(alpha),
            "sim_sla_compliance_high": g["sla_compliance"].quantile(1 - alpha),
            "sim_utilisation": g["utilisation"].mean(),
            "sim_value_kept": g["value_kept"].mean(),
            "sim_median_response_hours": g["median_response_hours"].mean(),
            "sim_p90_response_hours": g["p90_response_hours"].mean(),
        }
    )
    out = table.merge(parts, left_on="threshold", right_index=True, how="left")
    spread = (out["sim_sla_compliance_high"] - out["sim_sla_compliance_low"]).clip(lower=0.02)
    disagree = (out["sla_compliance"] - out["sim_sla_compliance"]).abs() > spread
    out["sla_source"] = np.where(
        out["sim_sla_compliance"].isna(), "analytic", np.where(disagree, "simulation", "analytic")
    )
    return out


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


def _current_figures(inputs: Inputs, mql: np.ndarray, team, sla, funnel, contact_rate) -> dict[str, Estimate]:
    """The same figures for the current MQLs (the history's own, or the current rules')."""
    trade = evaluate_tradeoffs(
        mql.astype(float),
        inputs.p_win,
        inputs.handoff_min,
        team=team,
        sla=sla,
        funnel=funnel,
        start=inputs.start,
        days=inputs.days,
        amount=inputs.amount,
        historical_wait_min=inputs.historical_wait_min,
        thresholds=[1.0],
        contact_rate=contact_rate,
        bootstrap=0,
        returns_score=None if inputs.returns_score is None else mql[inputs.returns_index].astype(float),
        returns_handoff_min=inputs.returns_handoff_min,
    )
    row = trade.table.iloc[0]
    return {name: Estimate(_f(row[name])) for name in EXPECTED if name in row}


def verify(
    recommendation: Recommendation,
    scenario,
    *,
    seeds: int | list[int] = 5,
    horizon_days: float = 120.0,
    base_seed: int = 1000,
) -> pd.DataFrame:
    """Put the recommended rules into ``scenario`` and simulate: one row per seed.

    Columns: ``seed, mqls_per_month, sla_compliance, utilisation, wins_per_month,
    revenue_per_month`` where wins and revenue count deals won within ``horizon_days`` of the
    MQL moment, for MQLs old enough to be judged (as the labels the scorecard learned from),
    per month of such MQLs. Seeds other than the history's make it an out-of-sample check.
    """
    from simulate.simulation import run

    seed_list = list(range(base_seed, base_seed + seeds)) if isinstance(seeds, int) else list(seeds)
    world = scenario.replace(rules=recommendation.rules)
    rows = []
    for s in seed_list:
        result = run(world, seed=s)
        leads = result.leads
        mql = leads["mql_at"].notna()
        judged = mql & (leads["mql_at"] <= result.as_of - pd.Timedelta(days=horizon_days))
        won = (
            judged
            & leads["customer_at"].notna()
            & (leads["customer_at"] - leads["mql_at"] <= pd.Timedelta(days=horizon_days))
        )
        judged_months = max(judged.sum(), 1) / max(mql.sum(), 1) * scenario.months
        rows.append(
            {
                "seed": s,
                "mqls_per_month": mql.sum() / scenario.months,
                "sla_compliance": float(leads.loc[mql, "sla_met"].astype("Float64").mean()),
                "utilisation": float(result.summary["rep_utilisation"].mean()),
                "wins_per_month": won.sum() / judged_months,
                "revenue_per_month": leads.loc[won, "amount"].sum() / judged_months,
            }
        )
    return pd.DataFrame(rows)


def verification_report(recommendation: Recommendation, verification: pd.DataFrame) -> pd.DataFrame:
    """Expected figures (with intervals) against the simulated mean and its spread over seeds.

    ``difference`` is the simulated mean relative to the expected value; ``within`` says
    whether the simulated mean lies inside the expected interval (where there is one) widened
    by twice the simulation's own standard error (the expectation is for the history's world, the
    simulation draws new years of it); ``meets_sla`` whether the simulated SLA compliance
    reaches the target.
    """
    rows = []
    for name in ("mqls_per_month", "sla_compliance", "utilisation", "wins_per_month", "revenue_per_month"):
        if name not in verification or name not in recommendation.expected:
            continue
        e = recommendation.expected[name]
        sim = verification[name].astype(float)
        se = sim.std(ddof=1) / np.sqrt(len(sim)) if len(sim) > 1 else 0.0
        within = None
        if e.low is not None and e.high is not None:
            within = bool(e.low - 2 * se <= sim.mean() <= e.high + 2 * se)
        difference = (sim.mean() - e.value) / abs(e.value) if e.value else np.nan
        rows.append(
            {
                "figure": name,
                "expected": e.value,
                "low": e.low,
                "high": e.high,
                "simulated": sim.mean(),
                "simulated_sd": sim.std(ddof=1),
                "difference": difference,
                "within": within,
            }
        )
    out = pd.DataFrame(rows)
    target = recommendation.constraints["sla_target"]
    out.attrs["meets_sla"] = bool(verification["sla_compliance"].mean() >= target)
    return out


def promise(
    history,
    *,
    team: Team,
    sla: SLA,
    funnel: Funnel | None = None,
    hours=(2.0, 4.0, 8.0, 24.0, 48.0),
    confidence: float = 0.9,
    seeds: int = 20,
    thresholds: int = 16,
    scorecard: Scorecard | None = None,
    contact_rate: float = 0.68,
    seed: int = 0,
) -> pd.DataFrame:
    """What this team can promise: for each SLA length, the most MQLs a month it can touch in
    time in ``confidence`` of simulated years.

    For every ``hours`` the queue engine serves the MQLs of ``thresholds`` candidate thresholds
    (from the history's scores) on ``seeds`` simulated years; a volume can be promised when
    the SLA target is met in at least ``confidence`` of them. One row per SLA length:
    ``sla_hours, mqls_per_month`` (the largest promisable volume), ``threshold`` (the one
    giving it), ``sla_compliance_low`` (its compliance in the worst ``1 - confidence`` of
    years) and the promise in words.
    """
    funnel = funnel or Funnel()
    history = _as_history(history)
    inputs = prepare(history, scorecard=scorecard, random_state=seed)
    score, handoff = inputs.score, inputs.handoff_min
    if inputs.returns_score is not None:
        score = np.concatenate([score, inputs.returns_score])
        handoff = np.concatenate([handoff, inputs.returns_handoff_min])
    candidates = np.unique(np.quantile(inputs.score, np.linspace(0.3, 0.995, thresholds)))
    months = inputs.days / (365.25 / 12)
    volume = {t: float((inputs.score >= t).sum()) / months for t in candidates}
    rows = []
    for h in hours:
        sla_h = dataclasses.replace(sla, hours=float(h))
        sim = simulated_load(
            score,
            handoff,
            candidates,
            team=team,
            sla=sla_h,
            funnel=funnel,
            start=inputs.start,
            days=inputs.days,
            seeds=seeds,
            contact_rate=contact_rate,
        )
        low = sim.groupby("threshold")["sla_compliance"].quantile(1 - confidence)
        ok = low[low >= sla.target]
        if len(ok):
            t = float(ok.index.min())  # the lowest threshold that still keeps the promise
            rows.append(
                {
                    "sla_hours": float(h),
                    "mqls_per_month": volume[t],
                    "threshold": t,
                    "sla_compliance_low": float(low[t]),
                    "promise": f"{volume[t]:,.0f} MQLs a month touched within {h:g} "
                    f"{sla.clock} hours for {sla.target:.0%} of them, "
                    f"in {confidence:.0%} of years",
                }
            )
        else:
            rows.append(
                {
                    "sla_hours": float(h),
                    "mqls_per_month": 0.0,
                    "threshold": np.nan,
                    "sla_compliance_low": float(low.max()),
                    "promise": f"no volume meets a {h:g}-hour SLA for {sla.target:.0%} with this team",
                }
            )
    return pd.DataFrame(rows)
