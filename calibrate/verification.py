"""Is the recommendation right? Its rules put back into a world and simulated, and what
the team can promise.

``verify`` runs new simulated years under the recommended rules; ``verification_report``
sets the expected figures beside what those years delivered; ``promise`` says, for each SLA
length, how many MQLs a month the team can touch in time in a chosen share of years.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from calibrate.capacity import HORIZON_DAYS, SalesCapacity
from calibrate.inputs import as_history, prepare
from calibrate.recommendation import Recommendation
from calibrate.scorecard import Scorecard
from calibrate.sla import simulated_load
from simulate import seeding

__all__ = ["promise", "verification_report", "verify"]


def verify(
    recommendation: Recommendation,
    scenario,
    *,
    seeds: int | Sequence[int] = 5,
    seed: int = 1000,
    horizon_days: float = HORIZON_DAYS,
) -> pd.DataFrame:
    """Put the recommended rules into ``scenario`` and simulate: one row per seed.

    Columns: ``seed, mqls_per_month, sla_compliance, utilisation, wins_per_month,
    revenue_per_month`` where wins and revenue count deals won within ``horizon_days`` of the
    MQL moment, for MQLs old enough to be judged (as the labels the scorecard learned from),
    per month of such MQLs. ``seeds`` is a count (children of ``seed``) or the seeds; seeds
    other than the history's make it an out-of-sample check.
    """
    from simulate.simulation import run

    seed_list = seeding.seed_list(seeds, seed=seed)
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
    capacity: SalesCapacity,
    *,
    hours: Sequence[float] = (2.0, 4.0, 8.0, 24.0, 48.0),
    confidence: float = 0.9,
    seeds: int | Sequence[int] = 20,
    thresholds: int = 16,
    scorecard: Scorecard | None = None,
    horizon_days: float = HORIZON_DAYS,
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
    sla = capacity.sla
    inputs = prepare(as_history(history), scorecard=scorecard, horizon_days=horizon_days, random_state=seed)
    score, handoff = inputs.load_arrays()
    candidates = np.unique(np.quantile(inputs.score, np.linspace(0.3, 0.995, thresholds)))
    volume = {t: float((inputs.score >= t).sum()) / inputs.window.months for t in candidates}
    rows = []
    for h in hours:
        sim = simulated_load(
            score,
            handoff,
            candidates,
            capacity=capacity.with_sla_hours(h),
            window=inputs.window,
            seeds=seeds,
            seed=seed,
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
