"""Is the recommendation right? Its rules put back into a world and simulated, against the
rules in force on the same new years, and what the team can promise.

``verify`` runs new simulated years under the recommended rules and, on the same seeds, under
the current rules (common random numbers: the same seed gives the same leads and the same
behaviour whatever the rules); ``paired_uplift`` turns the pairs into the uplift the
recommendation delivered, with an interval; ``verification_report`` sets the expected figures
and the expected uplift beside what those years delivered; ``promise`` says, for each SLA
length, how many MQLs a month the team can touch in time in a chosen share of years.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from scipy import stats

from calibrate.capacity import HORIZON_DAYS, SalesCapacity
from calibrate.inputs import as_history, prepare
from calibrate.recommendation import Recommendation
from calibrate.scorecard import Scorecard
from calibrate.sla import simulated_load
from simulate import seeding
from simulate.rules import ScoringRules

__all__ = [
    "ARMS",
    "FIGURES",
    "UPLIFT_FIGURES",
    "arm_rows",
    "paired_uplift",
    "promise",
    "verification_report",
    "verify",
    "verify_arms",
]

ARMS = ("recommended", "current")
"""The two arms of ``verify``: the recommended rules and the rules in force."""

FIGURES = ("mqls_per_month", "sla_compliance", "utilisation", "wins_per_month", "revenue_per_month")
"""The figures measured on every simulated year (columns of ``verify``'s table)."""

UPLIFT_FIGURES = ("mqls_per_month", "sla_compliance", "wins_per_month", "revenue_per_month")
"""The figures ``paired_uplift`` compares by default."""


def measure_year(
    scenario, rules: ScoringRules | None, seed: int, horizon_days: float = HORIZON_DAYS
) -> dict[str, float]:
    """Simulate one year of ``scenario`` (a ``Scenario`` or a ``FittedWorld``) under
    ``rules`` with ``seed`` and measure it (``rules=None``: the world as it stands; a world
    fitted without rules then replays the history's own MQL moments).

    Returns ``mqls_per_month, sla_compliance, utilisation, wins_per_month,
    revenue_per_month``: wins and revenue count deals won within ``horizon_days`` of the MQL
    moment, for MQLs old enough to be judged (as the labels the scorecard learned from), per
    month of such MQLs.
    """
    from calibrate.world import FittedWorld
    from simulate.simulation import run

    world = scenario if rules is None else scenario.replace(rules=rules)
    result = world.run(int(seed)) if isinstance(world, FittedWorld) else run(world, seed=int(seed))
    leads = result.leads
    mql = leads["mql_at"].notna()
    judged = mql & (leads["mql_at"] <= result.as_of - pd.Timedelta(days=horizon_days))
    won = (
        judged
        & leads["customer_at"].notna()
        & (leads["customer_at"] - leads["mql_at"] <= pd.Timedelta(days=horizon_days))
    )
    judged_months = max(judged.sum(), 1) / max(mql.sum(), 1) * scenario.months
    met = leads.loc[mql, "sla_met"].astype("Float64").mean()  # NA without a decided MQL
    return {
        "mqls_per_month": mql.sum() / scenario.months,
        "sla_compliance": float(met) if pd.notna(met) else np.nan,
        "utilisation": float(result.summary["rep_utilisation"].mean()),
        "wins_per_month": won.sum() / judged_months,
        "revenue_per_month": leads.loc[won, "amount"].sum() / judged_months,
    }


def _measure_task(task: tuple) -> dict[str, float]:
    return measure_year(*task)


def verify_arms(
    scenario,
    rules: Mapping[str, ScoringRules],
    *,
    seeds: int | Sequence[int] = 20,
    seed: int = 1000,
    horizon_days: float = HORIZON_DAYS,
    workers: int = 1,
) -> pd.DataFrame:
    """Simulate every set of ``rules`` on the same new years of ``scenario``.

    Parameters
    ----------
    scenario : simulate.Scenario
        The world; only its rules change from arm to arm.
    rules : mapping of str to ScoringRules
        The arms: a name and the rules to put into the world.
    seeds, seed : the years: a count (children of ``seed``, ``simulate.seeding.seed_list``)
        or the seeds themselves. Every arm runs every seed: common random numbers, so the
        difference between two arms on one seed is the difference the rules make.
    horizon_days : the outcome window (see ``measure_year``).
    workers : processes to spread the runs over (1: in this process). The numbers do not
        depend on it.

    Returns
    -------
    pandas.DataFrame
        One row per seed and arm (seed order, then the arms in the mapping's order):
        ``seed, arm`` and the ``FIGURES``.
    """
    seed_list = seeding.seed_list(seeds, seed=seed)
    names = list(rules)
    if not names:
        raise ValueError("verify_arms needs at least one arm of rules")
    if isinstance(workers, bool) or not isinstance(workers, int | np.integer) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    tasks = [(scenario, rules[name], s, horizon_days) for s in seed_list for name in names]
    if workers > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=int(workers)) as pool:
            measured = list(pool.map(_measure_task, tasks, chunksize=1))
    else:
        measured = [_measure_task(t) for t in tasks]
    keys = [(s, name) for s in seed_list for name in names]
    rows = [{"seed": s, "arm": name, **m} for (s, name), m in zip(keys, measured)]
    return pd.DataFrame(rows, columns=["seed", "arm", *FIGURES])


def verify(
    recommendation: Recommendation,
    scenario=None,
    *,
    current_rules: ScoringRules | bool | None = None,
    seeds: int | Sequence[int] = 20,
    seed: int = 1000,
    horizon_days: float = HORIZON_DAYS,
    workers: int = 1,
) -> pd.DataFrame:
    """Put the recommended rules, and the current ones, into ``scenario`` on the same new years.

    Parameters
    ----------
    recommendation : Recommendation
        What ``recommend`` gave: its ``rules`` are the recommended arm.
    scenario : simulate.Scenario or calibrate.FittedWorld, optional
        The world to simulate; only its rules change. Default: the world the
        recommendation was made in (``Recommendation.world``, fitted to its history).
    current_rules : ScoringRules, False or None
        The current arm: ``None`` (default) the rules the recommendation was compared with
        (its ``current_rules``, where it has them: the baseline of its claimed uplift), else
        the world's own rules (``scenario.rules``: in a simulated history they are the rules
        in force; a world fitted without rules replays the history's MQL moments); a
        ``ScoringRules``; or ``False`` for the recommended arm alone (half the runs; no
        uplift to measure).
    seeds, seed : a count (children of ``seed``) or the seeds; seeds other than the
        history's make it an out-of-sample check. A recommendation with a queue policy
        (``Recommendation.routing``) runs both arms under that policy: the uplift is that of
        the rules; the policy's own gain is the tournament's (``Recommendation.tournament``).
        Both arms run every seed: the same seed gives the same leads and behaviour whatever
        the rules (common random numbers).
    horizon_days : the outcome window (see ``measure_year``).
    workers : processes for the runs (the numbers do not depend on it).

    Returns
    -------
    pandas.DataFrame
        One row per seed and arm: ``seed, arm`` (``"recommended"``, ``"current"``),
        ``mqls_per_month, sla_compliance, utilisation, wins_per_month, revenue_per_month``,
        where wins and revenue count deals won within ``horizon_days`` of the MQL moment, for
        MQLs old enough to be judged, per month of such MQLs. ``arm_rows`` picks one arm,
        ``paired_uplift`` compares them.
    """
    from calibrate.world import FittedWorld

    if scenario is None:
        scenario = getattr(recommendation, "world", None)
        if scenario is None:
            raise ValueError("verify needs a scenario: this recommendation carries no fitted world")
    if current_rules is None or current_rules is True:
        current_rules = getattr(recommendation, "current_rules", None)
        if current_rules is None and not (isinstance(scenario, FittedWorld) and scenario.history_rules):
            current_rules = scenario.rules if not isinstance(scenario, FittedWorld) else scenario.scenario.rules
    routing = getattr(recommendation, "routing", None)
    if routing:  # both rule sets run under the recommended queue policy
        from calibrate.policy_tournament import routing_policy

        inner = scenario.scenario if isinstance(scenario, FittedWorld) else scenario
        team, sla = routing_policy(routing).apply(inner.team, inner.sla)
        scenario = scenario.replace(team=team, sla=sla)
    arms = {"recommended": recommendation.rules}
    if current_rules is not False:
        arms["current"] = current_rules  # None: a fitted world's own MQL moments
    return verify_arms(scenario, arms, seeds=seeds, seed=seed, horizon_days=horizon_days, workers=workers)


def arm_rows(verification: pd.DataFrame, arm: str = "recommended") -> pd.DataFrame:
    """The rows of one arm of a ``verify`` table (a table without an ``arm`` column is all
    the recommended arm, as ``verify`` used to return)."""
    if "arm" not in verification:
        if arm != "recommended":
            raise ValueError(f"this verification has no arm column, so no {arm!r} arm")
        return verification
    return verification[verification["arm"] == arm].reset_index(drop=True)


def paired_uplift(
    verification: pd.DataFrame,
    *,
    confidence: float = 0.95,
    figures: Sequence[str] = UPLIFT_FIGURES,
    arms: tuple[str, str] = ARMS,
) -> pd.DataFrame:
    """The uplift of the first arm over the second, from the differences on each seed.

    Parameters
    ----------
    verification : a ``verify`` (or ``verify_arms``) table with both ``arms``.
    confidence : the interval's coverage.
    figures : the figures to compare (those missing from the table are left out).
    arms : (treatment, baseline), default ``("recommended", "current")``.

    Returns
    -------
    pandas.DataFrame
        One row per figure: ``figure``, the mean of each arm (columns named by the arms) over
        the seeds both arms ran, ``uplift`` (mean of the paired differences treatment -
        baseline), ``sd`` (their standard deviation), ``low, high`` (Student t interval over
        seeds: ``uplift -/+ t(1 - (1 - confidence) / 2, n - 1) * sd / sqrt(n)``; NaN with a
        single seed), ``seeds`` (n).
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    treated, base = arms
    if "arm" not in verification or not {treated, base} <= set(verification["arm"]):
        raise ValueError(
            f"paired_uplift needs both arms {treated!r} and {base!r} in the table "
            "(run verify with current rules, not current_rules=False)"
        )
    a = verification[verification["arm"] == treated].set_index("seed")
    b = verification[verification["arm"] == base].set_index("seed")
    if a.index.has_duplicates or b.index.has_duplicates:
        raise ValueError("paired_uplift needs one row per seed and arm")
    common = a.index.intersection(b.index, sort=False)
    rows = []
    for name in figures:
        if name not in a or name not in b:
            continue
        x, y = a.loc[common, name].astype(float), b.loc[common, name].astype(float)
        ok = x.notna() & y.notna()
        d = (x - y)[ok].to_numpy()
        n = d.size
        mean = float(d.mean()) if n else np.nan
        sd = float(d.std(ddof=1)) if n > 1 else np.nan
        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n)) if n > 1 else np.nan
        rows.append(
            {
                "figure": name,
                treated: float(x[ok].mean()) if n else np.nan,
                base: float(y[ok].mean()) if n else np.nan,
                "uplift": mean,
                "sd": sd,
                "low": mean - half,
                "high": mean + half,
                "seeds": int(n),
            }
        )
    out = pd.DataFrame(rows, columns=["figure", treated, base, "uplift", "sd", "low", "high", "seeds"])
    out.attrs["confidence"] = float(confidence)
    return out


def verification_report(
    recommendation: Recommendation, verification: pd.DataFrame, *, confidence: float = 0.95
) -> pd.DataFrame:
    """Expected figures (with intervals) against the simulated years, and the expected uplift
    over the current rules against the uplift the same years delivered.

    Columns: ``figure, expected, low, high`` (the recommendation's expectation),
    ``simulated, simulated_sd`` (mean and spread of the recommended arm over seeds),
    ``difference`` (simulated relative to expected), ``within`` (the simulated mean lies in
    the expected interval widened by twice the simulation's standard error; the expectation
    is for the history's world, the simulation draws new years of it), and, where the table
    has the current arm: ``expected_uplift`` (``expected - current`` of the recommendation,
    NaN without ``current``), ``verified_uplift, uplift_low, uplift_high`` (``paired_uplift``
    at ``confidence``) and ``uplift_within`` (the expected uplift lies in that interval).

    ``attrs``: ``meets_sla`` (the recommended arm's mean compliance reaches the target),
    ``years_meeting_sla`` (share of seeds whose recommended-arm compliance reaches it: the
    prediction check of an SLA promised for a share of years), ``gain_in_sla_only`` (neither
    the wins nor the revenue interval lies above 0 while the SLA interval does; ``None``
    without the current arm), ``uplift`` (the ``paired_uplift`` table or ``None``), ``seeds``.
    """
    rec_rows = arm_rows(verification, "recommended")
    paired = None
    if "arm" in verification and "current" in set(verification["arm"]):
        paired = paired_uplift(verification, confidence=confidence).set_index("figure")
    current = recommendation.current or {}
    rows = []
    for name in FIGURES:
        if name not in rec_rows or name not in recommendation.expected:
            continue
        e = recommendation.expected[name]
        value = np.nan if e.value is None else float(e.value)
        sim = rec_rows[name].astype(float)
        se = sim.std(ddof=1) / np.sqrt(len(sim)) if len(sim) > 1 else 0.0
        within = None
        if e.low is not None and e.high is not None:
            within = bool(e.low - 2 * se <= sim.mean() <= e.high + 2 * se)
        difference = (sim.mean() - value) / abs(value) if value and np.isfinite(value) else np.nan
        row = {
            "figure": name,
            "expected": value,
            "low": e.low,
            "high": e.high,
            "simulated": sim.mean(),
            "simulated_sd": sim.std(ddof=1),
            "difference": difference,
            "within": within,
        }
        if paired is not None:
            now = current.get(name)
            claimed = value - now.value if now is not None and now.value is not None else np.nan
            got = paired.loc[name] if name in paired.index else None
            row["expected_uplift"] = claimed
            row["verified_uplift"] = np.nan if got is None else got["uplift"]
            row["uplift_low"] = np.nan if got is None else got["low"]
            row["uplift_high"] = np.nan if got is None else got["high"]
            row["uplift_within"] = (
                None
                if got is None or not np.isfinite(claimed) or not np.isfinite(got["low"])
                else bool(got["low"] <= claimed <= got["high"])
            )
        rows.append(row)
    out = pd.DataFrame(rows)
    target = recommendation.constraints["sla_target"]
    compliance = rec_rows["sla_compliance"].astype(float)
    out.attrs["meets_sla"] = bool(compliance.mean() >= target)
    out.attrs["years_meeting_sla"] = float((compliance >= target).mean()) if len(compliance) else np.nan
    out.attrs["gain_in_sla_only"] = None if paired is None else _gain_in_sla_only(paired)
    out.attrs["uplift"] = None if paired is None else paired.reset_index()
    out.attrs["seeds"] = int(rec_rows["seed"].nunique()) if "seed" in rec_rows else len(rec_rows)
    return out


def _gain_in_sla_only(paired: pd.DataFrame) -> bool:
    """The SLA interval lies above 0 and neither the wins nor the revenue one does."""

    def above(name: str) -> bool:
        return name in paired.index and bool(paired.loc[name, "low"] > 0)

    return above("sla_compliance") and not above("wins_per_month") and not above("revenue_per_month")


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
