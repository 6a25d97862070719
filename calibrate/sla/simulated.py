"""The simulated check of the SLA load: each threshold's MQLs through the queue engine, over seeds."""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from calibrate.capacity import SalesCapacity, Window
from calibrate.sla._checks import check_leads, check_sizes, check_weights, lead_shares
from calibrate.sla.analytic import LOAD_COLUMNS
from simulate.funnel import Funnel, answering_attempt
from simulate.queue import serve_queue
from simulate.seeding import seed_list
from simulate.team import SLA, Team

__all__ = ["simulated_load", "simulated_reps_needed"]


def _quantiles(wait: np.ndarray, qs=(0.5, 0.9)) -> list[float]:
    """Linear-interpolation quantiles (as ``numpy.quantile``) where never-touched leads
    count as inf: inf as soon as an inf takes part."""
    n = wait.size
    if n == 0:
        return [np.nan for _ in qs]
    pos = [q * (n - 1) for q in qs]
    ranks = sorted({int(np.floor(x)) for x in pos} | {min(int(np.floor(x)) + 1, n - 1) for x in pos})
    part = np.partition(wait, ranks)
    out = []
    for x in pos:
        i = int(np.floor(x))
        frac = x - i
        a, b = part[i], part[min(i + 1, n - 1)]
        if not np.isfinite(a) or (frac > 0 and not np.isfinite(b)):
            out.append(np.inf)
        else:
            out.append(float(a + frac * (b - a)))
    return out


@dataclass(frozen=True)
class _SimInputs:
    """What every seed of :func:`simulated_load` needs (leads sorted by handoff)."""

    score: np.ndarray
    handoff: np.ndarray
    deadline: np.ndarray
    contact: np.ndarray
    bad: np.ndarray
    thresholds: np.ndarray
    sizes: tuple[int, ...]
    team: Team
    sla: SLA
    funnel: Funnel
    window: Window
    weights: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)  # in handoff order


@dataclass(frozen=True)
class _Draws:
    """One seed's draws for every lead (common random numbers across thresholds)."""

    attempts: np.ndarray
    work: np.ndarray  # first-touch minutes
    follow: np.ndarray  # minutes of each follow-up
    total_work: np.ndarray


def _draws(inp: _SimInputs, draw_seq: np.random.SeedSequence) -> _Draws:
    team = inp.team
    u = np.random.default_rng(draw_seq).random((inp.score.size, 5))
    a_max = team.attempts
    k_answer = answering_attempt(u[:, 2], attempts=a_max, attempt_connect_share=inp.funnel.attempt_connect_share)
    bad = u[:, 0] < inp.bad
    reachable = u[:, 1] < inp.contact
    attempts = np.where(bad, 1, np.where(reachable, k_answer, a_max))
    work = team.first_touch.quantile(u[:, 3])
    follow = team.follow_up.quantile(u[:, 4])
    return _Draws(attempts=attempts, work=work, follow=follow, total_work=work + follow * (attempts - 1))


def serve(inp: _SimInputs, draws: _Draws, idx: np.ndarray, intervals, team: Team, sla: SLA, moments=None):
    """The MQLs ``idx`` through the queue engine with ``team``'s routing, discipline and
    cadence and ``sla``'s deadlines and breach action, on one seed's draws; ``moments``
    (their handoffs and deadlines) replace the inputs' own where given."""
    a_max = team.attempts
    handoff, deadline = (inp.handoff[idx], inp.deadline[idx]) if moments is None else moments
    return serve_queue(
        handoff,
        draws.work[idx],
        rep_intervals=intervals,
        routing=team.routing,
        discipline=team.discipline,
        aging=team.aging_per_hour,
        score=inp.score[idx] if team.discipline == "highest_score" else None,
        deadline_at=deadline if sla.breach != "none" else None,
        breach=sla.breach,
        attempts=draws.attempts[idx] if a_max > 1 else None,
        attempt_gap_minutes=team.attempt_gap_minutes if a_max > 1 else None,
        attempt_minutes=draws.follow[idx] if a_max > 1 else None,
        followups_first=team.followups_first,
        rep_on_team=team.on_team_minutes(inp.window.start),
    )


def _figures(inp: _SimInputs, draws: _Draws, idx: np.ndarray, intervals, capacity: float) -> dict:
    """The load figures of the MQLs ``idx`` served by reps with working ``intervals``."""
    team, sla, funnel = inp.team, inp.sla, inp.funnel
    if idx.size == 0:
        return {
            "mqls": 0,
            "utilisation": 0.0,
            "sla_compliance": np.nan,
            "median_response_hours": np.nan,
            "p90_response_hours": np.nan,
            "value_kept": np.nan,
        } | {f"value_kept_{name}": np.nan for name in inp.weights}
    h = inp.handoff[idx]
    dl = inp.deadline[idx]
    res = serve(inp, draws, idx, intervals, team, sla)
    touch = res.first_touch_at
    touched = np.isfinite(touch)
    wait = np.where(touched, touch - h, np.inf)
    w0 = np.where(touched, wait, 0.0)
    kept = np.where(touched, funnel.connect_decay(w0) * funnel.qualify_decay(w0), 0.0)
    med, p90 = _quantiles(wait)
    return {
        "mqls": idx.size,
        "utilisation": float(draws.total_work[idx].sum()) / capacity if capacity > 0 else np.inf,
        "sla_compliance": float(np.count_nonzero(touch <= dl)) / idx.size,
        "median_response_hours": med / 60.0,
        "p90_response_hours": p90 / 60.0,
        "value_kept": float(kept.mean()),
    } | {f"value_kept_{name}": weighted_mean(kept, w[idx]) for name, w in inp.weights.items()}


def weighted_mean(values: np.ndarray, weight: np.ndarray) -> float:
    """``sum(w x) / sum(w)``, the plain mean where every weight is 0."""
    total = float(weight.sum())
    return float((weight * values).sum()) / total if total > 0 else float(values.mean())


def _mql_count(desc: np.ndarray, threshold: float) -> int:
    """The number of MQLs (``score >= threshold``) among scores sorted high to low."""
    return int(np.searchsorted(-desc, -threshold, side="right"))


def _simulate_seed(inp: _SimInputs, seed: int) -> list[dict]:
    """Every threshold (and team size) of one seed, with common random numbers."""
    cal_seq, draw_seq = np.random.SeedSequence(seed).spawn(2)
    draws = _draws(inp, draw_seq)
    end = inp.window.end_minutes
    rows = []
    desc = np.sort(inp.score)[::-1]
    for size in inp.sizes:
        team_c = inp.team.with_size(size)
        # a fresh copy of the calendar seed: the first reps keep their calendars at any size
        seq = np.random.SeedSequence(cal_seq.entropy, spawn_key=cal_seq.spawn_key)
        intervals = team_c.working_intervals(inp.window.start, inp.window.queue_days, rng=np.random.default_rng(seq))
        capacity = sum(float(np.clip(np.minimum(iv[:, 1], end) - iv[:, 0], 0.0, None).sum()) for iv in intervals)
        done: dict[int, dict] = {}
        for threshold in inp.thresholds:
            row = {"threshold": float(threshold), "seed": seed, "reps": size}
            count = _mql_count(desc, threshold)
            if count not in done:  # the MQL sets are nested: the same count is the same set
                done[count] = _figures(inp, draws, np.flatnonzero(inp.score >= threshold), intervals, capacity)
            rows.append(done[count] | row)
    return rows


def _sim_inputs(s, h, t, *, capacity: SalesCapacity, window: Window, sizes, weights=None) -> _SimInputs:
    """The leads sorted by handoff (no score: never an MQL), their deadlines and shares."""
    contact, bad = lead_shares(capacity, s.size)
    team, sla = capacity.team, capacity.sla
    order = np.argsort(h, kind="stable")
    h = h[order]
    s = np.nan_to_num(s[order], nan=-np.inf)
    contact = np.broadcast_to(contact, order.shape)[order] if contact.ndim else np.full(s.size, float(contact))
    bad = np.broadcast_to(bad, order.shape)[order] if bad.ndim else np.full(s.size, float(bad))
    return _SimInputs(
        score=s,
        handoff=h,
        deadline=sla.deadlines(h, window.start, window.queue_days),
        contact=contact,
        bad=bad,
        thresholds=np.unique(t),
        sizes=(team.size,) if sizes is None else tuple(sorted({team.size, *sizes.tolist()})),
        team=team,
        sla=sla,
        funnel=capacity.funnel,
        window=window,
        weights={name: w[order] for name, w in (weights or {}).items()},
    )


def _table(frame: pd.DataFrame, *, team_size: int, sizes, target: float, window: Window, weights) -> pd.DataFrame:
    """The rows of the team as given, with ``reps_needed`` from the other sizes run."""
    frame["stable"] = frame["utilisation"] < 1.0
    frame["mqls_per_month"] = frame["mqls"] / window.months
    if sizes is None:
        frame["reps_needed"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    else:
        met = frame[frame["reps"].isin(sizes.tolist()) & (frame["sla_compliance"] >= target)]
        need = met.groupby(["threshold", "seed"])["reps"].min()
        key = pd.MultiIndex.from_frame(frame[["threshold", "seed"]])
        frame["reps_needed"] = pd.array(need.reindex(key).fillna(-1).to_numpy(), dtype="Int64")
    frame = frame[frame["reps"] == team_size].drop(columns="reps")
    frame = frame.sort_values(["threshold", "seed"], kind="stable").reset_index(drop=True)
    return frame[["threshold", "seed", *LOAD_COLUMNS[1:], *(f"value_kept_{name}" for name in weights)]]


def simulated_load(
    score: ArrayLike,
    handoff_min: ArrayLike,
    thresholds: ArrayLike,
    *,
    capacity: SalesCapacity,
    window: Window,
    seeds: int | Sequence[int],
    seed: int = 0,
    reps: Sequence[int] | None = None,
    executor: cf.Executor | None = None,
    weights: Mapping[str, ArrayLike] | None = None,
) -> pd.DataFrame:
    """The SLA load of every candidate threshold, simulated by the queue engine.

    For each seed, the team's shrunk calendars (``Team.working_intervals``) and each lead's
    draws (bad data, reachable, the attempt it answers at, its first-touch and follow-up
    minutes, drawn as in :mod:`simulate.funnel`) are made once and kept for every
    threshold (common random numbers: a lead keeps its draws whatever the threshold). The
    MQLs of each threshold then go through :func:`simulate.serve_queue` with the team's
    routing, discipline and cadence, the deadlines of ``SLA.deadlines`` and its breach
    action; the queue runs ``window.pad_days`` past the history. The MQL sets are nested, so
    thresholds with the same number of MQLs share one run.

    Parameters
    ----------
    score, handoff_min, thresholds, capacity, window
        As in :func:`~calibrate.sla.analytic_load`.
    seeds : int or sequence of int
        A number of seeds, expanded into the children of ``seed``
        (:func:`simulate.seeding.seed_list`), or the seeds themselves. Seed ``s`` draws from
        ``numpy.random.SeedSequence(s)``; results do not depend on the executor.
    seed : int
        The root that a count of ``seeds`` is expanded from.
    reps : sequence of int, optional
        Team sizes to simulate as well (the team with that many reps, a roster repeated in
        order: ``Team.with_size``); ``reps_needed`` is then the smallest of them whose
        compliance in that seed reaches ``SLA.target`` (-1 if none). Without it
        ``reps_needed`` is missing (NA).
    executor : concurrent.futures.Executor, optional
        Runs one task per seed (for example a ``ProcessPoolExecutor``); default: in this
        process, one seed after the other.
    weights : mapping of str to array_like, optional
        ``(n,)`` weights per lead (say the chance to win): adds ``value_kept_<name>``, the
        mean value kept weighted by them (a score-ordered queue keeps more of the likely
        winners' value than of the others').

    Returns
    -------
    pandas.DataFrame
        One row per threshold and seed: ``threshold, seed`` and the other
        ``LOAD_COLUMNS``, for the team as given. ``utilisation`` is the drawn work of the
        MQLs over the reps' working minutes (after shrinkage) in the history; response
        hours count never-touched leads as inf.

    Examples
    --------
    >>> import datetime, numpy as np
    >>> from calibrate.capacity import SalesCapacity, Window
    >>> rng = np.random.default_rng(0)
    >>> score = rng.integers(0, 100, 20_000)
    >>> handoff = np.sort(rng.random(20_000)) * 365 * 1440
    >>> kw = dict(capacity=SalesCapacity(), window=Window(start=datetime.date(2026, 1, 1), days=365))
    >>> sim = simulated_load(score, handoff, [70, 90], seeds=[0, 1, 2], **kw)
    >>> print(sim.groupby("threshold")[["sla_compliance", "value_kept"]].mean().round(2))
               sla_compliance  value_kept
    threshold
    70.0                 0.94        0.41
    90.0                 0.95        0.45
    """
    s, h, t = check_leads(score, handoff_min, thresholds, capacity=capacity, window=window)
    seeds_run = seed_list(seeds, seed=seed)
    sizes = check_sizes(reps)
    weights = check_weights(weights, s.size) or {}
    inp = _sim_inputs(s, h, t, capacity=capacity, window=window, sizes=sizes, weights=weights)
    if executor is None:
        rows = [r for one in seeds_run for r in _simulate_seed(inp, one)]
    else:
        futures = [executor.submit(_simulate_seed, inp, one) for one in seeds_run]
        rows = [r for fut in futures for r in fut.result()]
    return _table(
        pd.DataFrame(rows),
        team_size=capacity.team.size,
        sizes=sizes,
        target=capacity.sla.target,
        window=window,
        weights=weights,
    )


def simulated_reps_needed(
    score: ArrayLike,
    handoff_min: ArrayLike,
    threshold: float,
    *,
    capacity: SalesCapacity,
    window: Window,
    seeds: int | Sequence[int],
    seed: int = 0,
    extra: int = 4,
) -> int | None:
    """The team size the simulation needs for the SLA target at one threshold: over the
    seeds, the median of the smallest size (from two below the team to ``extra`` above it)
    whose compliance reaches ``SLA.target`` in that seed, as the analytic model's
    ``reps_needed`` is the smallest team whose expected compliance reaches it. ``None``
    where the median seed needs more than the largest size tried.

    For the rows where the simulation supplies the load figures (the analytic team size no
    longer holds there); the arguments as in :func:`simulated_load`.
    """
    size = capacity.team.size
    sizes = list(range(max(1, size - 2), size + extra + 1))
    frame = simulated_load(
        score, handoff_min, [threshold], capacity=capacity, window=window, seeds=seeds, seed=seed, reps=sizes
    )
    need = frame["reps_needed"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    need = np.where(need < 0, np.inf, need)
    if need.size == 0 or np.isnan(need).all():
        return None
    median = float(np.quantile(need[~np.isnan(need)], 0.5, method="higher"))
    return int(median) if np.isfinite(median) else None
