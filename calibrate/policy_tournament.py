"""Who calls whom first: a tournament of queue policies, chosen together with the threshold.

``tournament(history_or_world, ...)`` simulates every policy (``simulate.Policy``: routing,
discipline, aging, breach action) at every candidate threshold on the same seeds
(:mod:`calibrate.tournament_runs`) and returns a :class:`Tournament`: per policy and
threshold the SLA compliance, response hours, wins and revenue a month with the interval of
their mean over the seeds, the same by score band, the best policy-threshold pair whose SLA a
new year meets with the chosen confidence, and each policy's gain over round robin at each
one's own best threshold, paired seed by seed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from calibrate.capacity import HORIZON_DAYS, SLA_CONFIDENCE, SalesCapacity
from calibrate.tournament_runs import RUN_COLUMNS, Field, credit_spread, make_field, play
from calibrate.tradeoffs import CONFIDENCE, _kept, _sla_year_spread
from calibrate.world import wrap80
from simulate.routing import POLICIES, Policy
from simulate.seeding import seed_list
from simulate.team import SLA, Team

__all__ = ["SUMMARISED", "Tournament", "tournament"]

SUMMARISED = RUN_COLUMNS[3:]
"""The figures of ``Tournament.table``, each with ``_low`` and ``_high``: the interval of the
mean over the seeds at ``Tournament.confidence``."""

BAND_QUANTILES = (0.5, 0.8, 0.9)
"""Default score bands, cut on the MQLs of the median candidate threshold: their top 10%,
80-90%, 50-80% and the bottom half (lower thresholds add MQLs below the bottom band's floor,
counted in it)."""


def _mean_interval(frame: pd.DataFrame, keys: list[str], columns: Sequence[str], confidence: float) -> pd.DataFrame:
    """Mean over seeds with a t interval of the mean (``_low``, ``_high``) and the seeds' sd."""
    groups = frame.groupby(keys, sort=False)[list(columns)]
    mean, sd, n = groups.mean(), groups.std(ddof=1), groups.count()
    half = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1)) * sd / np.sqrt(n)
    out = mean.copy()
    for c in columns:
        out[f"{c}_low"] = mean[c] - half[c].fillna(0.0)
        out[f"{c}_high"] = mean[c] + half[c].fillna(0.0)
    out["sim_sla_compliance_sd"] = sd["sla_compliance"]
    out["sim_seeds"] = n["sla_compliance"]
    return out.reset_index()


@dataclasses.dataclass(frozen=True, eq=False)
class Tournament:
    """The result of ``tournament`` (see the module docstring).

    Attributes
    ----------
    runs : one row per policy, threshold and seed (``tournament_runs.RUN_COLUMNS``).
    bands : the same by score band (``tournament_runs.BAND_COLUMNS``).
    table : per policy and threshold, the ``SUMMARISED`` figures with their intervals,
        ``sla_compliance_sd`` (a new year's spread) and ``sla_floor`` (the compliance a new
        year reaches with ``sla_confidence``) and ``feasible`` (the floor meets the target).
    policies : the policies, in the order given (``Policy.name`` labels every row).
    objective : ``"wins_per_month"`` or ``"revenue_per_month"``, maximised.
    sla : the SLA the constraint is taken from (its target; each policy may change its
        breach action).
    reference : the name of the policy gains are measured against (round robin, FIFO).
    credit_sd : per policy, the standard deviation of its gain that comes from the outcomes
        the chances were learned from (``tournament_runs.credit_spread``), in the gains'
        intervals with the queue's own noise.
    handoff_at_threshold : the leads are handed over when their score first reaches each
        threshold, as the CRM will (a history with events); else at the history's own
        handoff moments.
    """

    runs: pd.DataFrame
    bands: pd.DataFrame
    table: pd.DataFrame
    policies: tuple[Policy, ...]
    objective: str
    sla: SLA
    sla_confidence: float
    confidence: float
    reference: str
    seeds: tuple[int, ...]
    currency: str = ""
    handoff_at_threshold: bool = False
    credit_sd: dict = dataclasses.field(default_factory=dict)

    def policy(self, name: str) -> Policy:
        """The policy of a row's ``policy`` label."""
        for p in self.policies:
            if p.name == name:
                return p
        raise KeyError(f"no policy named {name!r}; the tournament has {[p.name for p in self.policies]}")

    @property
    def best(self) -> pd.Series:
        """The row of the best policy-threshold pair under the SLA constraint (the one with
        the highest SLA floor when none is feasible; ``feasible`` says which)."""
        t = self.table
        if t["feasible"].any():
            return t.loc[t.loc[t["feasible"], self.objective].idxmax()]
        return t.loc[t["sla_floor"].idxmax()]

    @property
    def best_policy(self) -> Policy:
        return self.policy(self.best["policy"])

    def best_threshold(self, name: str) -> float:
        """A policy's own best feasible threshold (nan when none of its thresholds is)."""
        rows = self.table[(self.table["policy"] == name) & self.table["feasible"]]
        return float(rows.loc[rows[self.objective].idxmax(), "threshold"]) if len(rows) else np.nan

    def gains(self) -> pd.DataFrame:
        """Each policy at its own best feasible threshold against the reference policy at
        its own: the objective, the SLA compliance, and the gain with its interval at
        ``confidence``: the paired mean's (the difference seed by seed, a t interval) and
        the spread of the chances it rests on (``credit_sd``), added in quadrature.
        Policies without a feasible threshold have no gain (nan)."""
        obj = self.objective
        ref_t = self.best_threshold(self.reference)
        ref = self._seed_values(self.reference, ref_t)
        rows = []
        for p in self.policies:
            t = self.best_threshold(p.name)
            mine = self._seed_values(p.name, t)
            row = {"policy": p.name, "threshold": t, obj: mine.mean() if mine.size else np.nan}
            row["sla_compliance"] = self._mean(p.name, t, "sla_compliance")
            diff = mine - ref if mine.size and ref.size else np.array([np.nan])
            z = stats.norm.ppf(0.5 + self.confidence / 2)
            half = float(np.hypot(_half_width(diff, self.confidence), z * self.credit_sd.get(p.name, 0.0)))
            row |= {"gain": diff.mean(), "gain_low": diff.mean() - half, "gain_high": diff.mean() + half}
            rows.append(row)
        return pd.DataFrame(rows)

    def _seed_values(self, name: str, threshold: float) -> np.ndarray:
        if not np.isfinite(threshold):
            return np.zeros(0)
        r = self.runs
        sel = r[(r["policy"] == name) & (r["threshold"] == threshold)].sort_values("seed")
        return sel[self.objective].to_numpy(float)

    def _mean(self, name: str, threshold: float, column: str) -> float:
        t = self.table
        sel = t[(t["policy"] == name) & (t["threshold"] == threshold)]
        return float(sel[column].iloc[0]) if len(sel) else np.nan

    def record(self) -> dict:
        """The tournament as plain data for a config: the field, the seeds and each policy at
        its own best threshold with its paired gain over the reference."""
        rows = []
        for row in self.gains().to_dict("records"):
            rows.append({k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()})
        for row in rows:
            row["value"] = row.pop(self.objective)
        return {
            "objective": self.objective,
            "reference": self.reference,
            "seeds": len(self.seeds),
            "thresholds": int(self.table["threshold"].nunique()),
            "confidence": self.confidence,
            "handoff_at_threshold": bool(self.handoff_at_threshold),
            "policies": rows,
        }

    def band_table(self, threshold: float | None = None) -> pd.DataFrame:
        """Mean response hours, SLA compliance and wins by score band for every policy at
        one threshold (default: the best pair's), rows policy x band."""
        t = float(self.best["threshold"]) if threshold is None else float(threshold)
        b = self.bands[self.bands["threshold"] == t]
        if b.empty:
            raise ValueError(f"the tournament did not run threshold {t:g}")
        cols = ["mqls_per_month", "sla_compliance", "median_response_hours", "mean_response_hours", "wins_per_month"]
        out = b.groupby(["policy", "band"], sort=False)[cols].mean().reset_index()
        return out

    def summary(self) -> str:
        """The tournament in lines under 80 columns."""
        best = self.best
        unit = "wins a month" if self.objective == "wins_per_month" else f"revenue a month{self.currency}"
        lines = [
            f"Queue-policy tournament: {len(self.policies)} policies x "
            f"{self.table['threshold'].nunique()} thresholds x {len(self.seeds)} seeds (paired)",
            f"SLA: {self.sla.target:.0%} within {self.sla.hours:g} {self.sla.clock} hours, "
            f"met by a new year with {self.sla_confidence:.0%} confidence",
            f"Best: {best['policy']} at threshold {best['threshold']:g}"
            + ("" if best["feasible"] else " (no pair meets the SLA: the one closest to it)"),
            f"  rule: {self.policy(best['policy']).rule(self.sla)}",
            *(["Leads handed over when their score first reaches the threshold"] if self.handoff_at_threshold else []),
            f"Each policy at its own best threshold; gain over {self.reference}, paired",
            f"seed by seed; its {self.confidence:.0%} interval holds the seeds' noise and that",
            f"of the outcomes the chances were learned from ({unit}):",
            f"  {'policy':<32} {'thr.':>5} {'value':>8} {'gain':>6} {'interval':>16} {'SLA':>5}",
        ]
        for row in self.gains().itertuples():
            if not np.isfinite(row.threshold):
                lines.append(f"  {row.policy:<32} no threshold meets the SLA")
                continue
            value = getattr(row, self.objective)
            lines.append(
                f"  {row.policy:<32} {row.threshold:>5g} {value:>8,.2f} {row.gain:>+6.2f} "
                f"[{row.gain_low:>+6.2f}, {row.gain_high:>+6.2f}] {row.sla_compliance:>5.3f}"
            )
        return "\n".join(wrap80(line) for line in lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        count = self.table["threshold"].nunique()
        return f"Tournament(policies={len(self.policies)}, thresholds={count}, seeds={len(self.seeds)})"

    def plot(self, axes=None):
        """Wins (or revenue) a month by threshold for every policy, and response hours by
        score band per policy at the best threshold (``calibrate.tournament_plots``)."""
        from calibrate.tournament_plots import plot_tournament

        return plot_tournament(self, axes)


def _half_width(diff: np.ndarray, confidence: float) -> float:
    """Half the t interval of the mean of paired differences (nan where one is missing)."""
    if not np.isfinite(diff).all():
        return np.nan
    if diff.size < 2:
        return 0.0
    return float(stats.t.ppf(0.5 + confidence / 2, diff.size - 1) * diff.std(ddof=1) / np.sqrt(diff.size))


def summarise(runs: pd.DataFrame, *, months: float, target: float, sla_confidence: float, confidence: float):
    """The per policy and threshold table of ``Tournament.table``."""
    parts = []
    for _, one in _mean_interval(runs, ["policy", "threshold"], SUMMARISED, confidence).groupby("policy", sort=False):
        parts.append(_sla_year_spread(one.sort_values("threshold").reset_index(drop=True), months))
    table = pd.concat(parts, ignore_index=True)
    table["sla_floor"] = table["sla_compliance"] - stats.norm.ppf(sla_confidence) * table["sla_compliance_sd"]
    table["feasible"] = table["sla_floor"] >= target
    return table


def default_thresholds(score: np.ndarray, count: int, capacity: SalesCapacity, window) -> np.ndarray:
    """At most ``count`` candidate thresholds, spread evenly in MQL volume over the range
    that matters for this team: from the threshold whose MQLs fill a tenth of its working
    time to the one whose MQLs would need a quarter more than it (past that no policy can
    keep an SLA). The team's time is its calendars' hours in the window after shrinkage,
    over the mean minutes one MQL costs (``calibrate.sla.work_per_mql``)."""
    from calibrate.sla.work import work_per_mql

    finite = np.sort(score[np.isfinite(score)])[::-1]
    if finite.size == 0:
        raise ValueError("no lead has a score: nothing to threshold")
    team = capacity.team
    minutes = sum(
        float((iv[:, 1] - iv[:, 0]).sum()) for iv in (c.intervals(window.start, window.days) for c in team.calendars)
    ) * (1.0 - team.shrinkage)
    per_mql, _ = work_per_mql(
        team,
        contact_rate=np.mean(capacity.contact_rate),
        bad_data_share=np.mean(capacity.bad_data_share),
        attempt_connect_share=capacity.funnel.attempt_connect_share,
    )
    fits = minutes / per_mql  # MQLs the team's time holds
    distinct = np.unique(finite)[::-1]
    volume = np.searchsorted(-finite, -distinct, side="right")  # MQLs at each distinct score
    inside = (volume >= 0.1 * fits) & (volume <= 1.25 * fits)
    if not inside.any():  # every threshold is far below or above the team: the nearest ones
        distance = np.abs(np.log(np.maximum(volume, 1) / fits))
        inside = distance <= distance.min()
    candidates, volume = distinct[inside], volume[inside]
    if candidates.size > count:
        wanted = np.linspace(volume.min(), volume.max(), int(count))
        pick = np.unique(np.abs(volume[None, :] - wanted[:, None]).argmin(axis=1))
        candidates = candidates[pick]
    return np.sort(candidates)


def tournament(
    history_or_world,
    team: Team | None = None,
    sla: SLA | None = None,
    *,
    thresholds: int | Sequence[float] = 50,
    policies: Sequence[Policy] = POLICIES,
    seeds: int | Sequence[int] = 10,
    seed: int = 0,
    capacity: SalesCapacity | None = None,
    objective: str = "wins",
    sla_confidence: float = SLA_CONFIDENCE,
    confidence: float = CONFIDENCE,
    bands: Sequence[float] = BAND_QUANTILES,
    horizon_days: float = HORIZON_DAYS,
    workers: int = 1,
) -> Tournament:
    """Every queue policy at every threshold, simulated on the same seeds.

    Parameters
    ----------
    history_or_world : a history (a ``History``, lead table, CSV path or ``simulate.run``
        result), or a world (``simulate.Scenario`` or ``calibrate.FittedWorld``), from which
        one year is simulated with ``seed`` and used as the history.
    team, sla : the team (its calendars, size, work) and SLA; default: those of
        ``capacity``, else of the world (fitted to the history when one is given).
    thresholds : a count of candidates (spread over the scores, ``default_thresholds``) or
        the thresholds themselves, on the points fitted to the history.
    policies : the field (default ``simulate.POLICIES``: six); the first round-robin FIFO
        policy without its own breach action is the reference for the gains (else the first).
    seeds, seed : a count (children of ``seed``) or the seeds of the queue's draws; every
        policy and threshold runs every seed (common random numbers).
    capacity : the sales side (``calibrate.SalesCapacity``); ``team`` and ``sla`` replace
        its own where given.
    objective : ``"wins"`` or ``"revenue"`` a month, maximised under the SLA constraint.
    sla_confidence : the chance that a new year meets the SLA target (the constraint).
    confidence : the level of the intervals of the means and of the paired gains.
    bands : quantiles of the scored leads that cut the score bands.
    horizon_days : the outcome window of the labels the chances are fitted to.
    workers : processes sharing the seeds (the numbers do not depend on it).

    Returns
    -------
    Tournament
    """
    from calibrate.inputs import prepare

    if objective not in ("wins", "revenue"):
        raise ValueError(f"tournament: objective must be 'wins' or 'revenue', got {objective!r}")
    history, capacity = _history_and_capacity(history_or_world, capacity, team, sla, horizon_days, seed)
    inputs = prepare(history, horizon_days=horizon_days, random_state=seed)
    capacity = inputs.with_reachability(capacity)
    return play_inputs(
        inputs,
        capacity,
        thresholds=thresholds,
        policies=policies,
        seeds=seeds,
        seed=seed,
        objective=objective,
        sla_confidence=sla_confidence,
        confidence=confidence,
        bands=bands,
        workers=workers,
    )


def play_inputs(
    inputs,
    capacity: SalesCapacity,
    *,
    thresholds,
    policies,
    seeds,
    seed,
    objective,
    sla_confidence,
    confidence,
    bands,
    workers=1,
    currency: str = "",
) -> Tournament:
    """The tournament on prepared leads (``calibrate.inputs.LeadInputs``) and a capacity."""
    policies = tuple(policies)
    if not policies or not all(isinstance(p, Policy) for p in policies):
        raise TypeError(f"tournament: policies must be simulate.Policy values, got {policies!r}")
    if not 0 < sla_confidence < 1:
        raise ValueError(f"sla_confidence must be in (0, 1), got {sla_confidence!r}")
    score = np.asarray(inputs.score, dtype=float)
    if isinstance(thresholds, int | np.integer):
        if thresholds < 1:
            raise ValueError(f"tournament: thresholds must be a count >= 1 or values, got {thresholds}")
        candidates = default_thresholds(score, int(thresholds), capacity, inputs.window)
    else:
        candidates = np.unique(np.asarray(thresholds, dtype=float))
        if candidates.size == 0 or not np.isfinite(candidates).all():
            raise ValueError("tournament: thresholds must be finite numbers")
    seeds_run = tuple(seed_list(seeds, seed=seed))
    p = inputs.credited_p_win()
    field: Field = make_field(
        score,
        inputs.handoff_min,
        p,
        p * inputs.amount,
        capacity=capacity,
        window=inputs.window,
        policies=policies,
        band_quantiles=bands,
        band_threshold=float(np.median(candidates)),
        kept_history=_kept(capacity.funnel, inputs.historical_wait_min),
        returns_score=inputs.returns_score,
        returns_handoff=inputs.returns_handoff_min,
        thresholds=candidates,
        handoff_for=None if inputs.path is None else (lambda t: inputs.with_handoff_for(t).handoff_min),
    )
    runs, band_runs = play(field, candidates, seeds_run, workers=workers)
    column = f"{objective}_per_month"
    table = summarise(
        runs,
        months=inputs.window.months,
        target=capacity.sla.target,
        sla_confidence=sla_confidence,
        confidence=confidence,
    )
    played = Tournament(
        runs=runs,
        bands=band_runs,
        table=table,
        policies=policies,
        objective=column,
        sla=capacity.sla,
        sla_confidence=float(sla_confidence),
        confidence=float(confidence),
        reference=_reference(policies).name,
        seeds=seeds_run,
        currency=currency,
        handoff_at_threshold=inputs.path is not None,
    )
    picks = {q.name: (q, played.best_threshold(q.name)) for q in policies}
    spread = credit_spread(field, picks, seeds_run, played.reference, column)
    return dataclasses.replace(played, credit_sd=spread)


def _reference(policies: Sequence[Policy]) -> Policy:
    for p in policies:
        if p.routing == "round_robin" and p.discipline == "fifo" and p.breach is None:
            return p
    return policies[0]


def _history_and_capacity(history_or_world, capacity, team, sla, horizon_days, seed):
    """The history to play on and the sales side (see ``tournament``)."""
    from calibrate.inputs import as_history
    from calibrate.world import FittedWorld, fit_world
    from simulate.scenario import Scenario
    from simulate.simulation import run

    if isinstance(history_or_world, FittedWorld):
        history = history_or_world.run(seed)
        world_capacity = history_or_world.capacity()
    elif isinstance(history_or_world, Scenario):
        history = run(history_or_world, seed=seed)
        world_capacity = SalesCapacity.from_scenario(history_or_world)
    else:
        history = as_history(history_or_world)
        world_capacity = None
    if capacity is None:
        if world_capacity is None:
            world_capacity = fit_world(history, sla=sla, horizon_days=horizon_days, seed=seed).capacity()
        capacity = world_capacity
    elif not isinstance(capacity, SalesCapacity):
        raise TypeError(f"tournament: capacity must be a calibrate.SalesCapacity, got {capacity!r}")
    if team is not None:
        capacity = capacity.replace(team=team)
    if sla is not None:
        capacity = capacity.replace(sla=sla)
    return history, capacity


RECORD_KEYS = ("chosen", "tournament")
"""The keys of a config's routing record that are not the policy's own."""


def routing_policy(record: dict) -> Policy:
    """The policy of a config's routing record (``Recommendation.routing``)."""
    return Policy.from_dict({k: v for k, v in record.items() if k not in RECORD_KEYS})


def choose_routing(
    inputs, capacity: SalesCapacity, routing, *, objective: str, sla_confidence: float, seeds, seed: int
) -> tuple[SalesCapacity, dict | None, Tournament | None]:
    """The capacity with the queue policy ``recommend(routing=...)`` asks for.

    ``"keep"``: the team's own (no change, no record). A ``Policy``: that one. ``"choose"``
    (the default field ``simulate.POLICIES``) or a sequence of policies: the tournament's
    best policy under the SLA constraint (the team's own policy joins the field when it is
    not in it). Returns the capacity with the policy put into its team and SLA, the
    config's ``routing`` record, and the tournament (None without one).
    """
    if isinstance(routing, str) and routing == "keep":
        return capacity, None, None
    if isinstance(routing, Policy):
        team, sla = routing.apply(capacity.team, capacity.sla)
        return capacity.replace(team=team, sla=sla), routing.to_dict(sla) | {"chosen": False}, None
    if isinstance(routing, str) and routing == "choose":
        field = POLICIES
    elif isinstance(routing, Sequence) and not isinstance(routing, str) and routing:
        field = tuple(routing)
    else:
        raise ValueError(f"routing must be 'keep', 'choose', a simulate.Policy or a sequence of them, got {routing!r}")
    own = Policy.of(capacity.team)
    if all(p.name != own.name for p in field):
        field = (*field, own)
    count = seeds if isinstance(seeds, int | np.integer) else len(seeds)
    played = play_inputs(
        inputs,
        capacity,
        thresholds=50,
        policies=field,
        seeds=seeds if count else 10,
        seed=seed,
        objective="revenue" if objective == "revenue" else "wins",
        sla_confidence=sla_confidence,
        confidence=CONFIDENCE,
        bands=BAND_QUANTILES,
    )
    policy = played.best_policy
    team, sla = policy.apply(capacity.team, capacity.sla)
    record = policy.to_dict(sla) | {"chosen": True, "tournament": played.record()}
    return capacity.replace(team=team, sla=sla), record, played
