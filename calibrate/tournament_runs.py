"""The runs of a queue-policy tournament: every policy x threshold x seed through the engine.

For each seed the draws of every lead (bad data, reachable, the attempt it answers at, the
minutes of its first touch and follow-ups) and the reps' shrunk calendars are made once, as
in :func:`calibrate.sla.simulated_load` and from the same seed streams, and kept for every
policy and threshold: common random numbers, so the difference between two policies on one
seed is the difference the policy makes. The MQL sets of the thresholds are nested, so
thresholds with the same MQL count share one run.

Each run gives, per lead, the wait to the first touch and the share of its value kept after
that wait (the funnel's connect and qualify decays); the wins of a run are the sum of the
leads' chances times their kept share, over the kept share of the history's own waits (the
trade-off table's scale), so a policy that calls the likely winners first is credited for it.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from calibrate.capacity import SalesCapacity, Window
from calibrate.sla.simulated import _draws, _mql_count, _quantiles, _sim_inputs, _SimInputs, serve
from simulate.routing import Policy

__all__ = ["BAND_COLUMNS", "RUN_COLUMNS", "Field", "band_edges", "credit_spread", "play"]

RUN_COLUMNS = (
    "policy",
    "threshold",
    "seed",
    "mqls_per_month",
    "touched_per_month",
    "sla_compliance",
    "median_response_hours",
    "p90_response_hours",
    "wins_per_month",
    "revenue_per_month",
)
"""One row per policy, threshold and seed; response hours are calendar hours, never-touched
leads counting as infinitely late."""

BAND_COLUMNS = (
    "policy",
    "threshold",
    "seed",
    "band",
    "mqls_per_month",
    "sla_compliance",
    "median_response_hours",
    "mean_response_hours",
    "wins_per_month",
)
"""One row per policy, threshold, seed and score band (``mean_response_hours`` over the
touched leads of the band, in calendar hours)."""


@dataclasses.dataclass(frozen=True)
class Field:
    """What every seed of a tournament needs (leads sorted by handoff, as ``_SimInputs``).

    ``p`` and ``value`` are each lead's credited chance to win and its chance times its
    expected amount; ``band`` its score band (-1 without a score); ``kept_history`` the
    kept share of the history's own waits. Leads back from nurture are handed to sales a
    second time: that trip adds load (and counts in the SLA), not an MQL or a win
    (``first_trip`` is False, ``p`` 0).
    """

    inputs: _SimInputs
    first_trip: np.ndarray
    p: np.ndarray
    value: np.ndarray
    band: np.ndarray
    band_names: tuple[str, ...]
    policies: tuple[Policy, ...]
    kept_history: float
    moments: dict[int, tuple[np.ndarray, np.ndarray]] = dataclasses.field(default_factory=dict)
    """Per MQL count (one threshold's MQL set), the handoffs and SLA deadlines of its leads
    when each is handed over as its score first reaches the threshold (empty: the inputs')."""


def band_edges(score: np.ndarray, quantiles: Sequence[float]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Score cut points at ``quantiles`` of ``score``, and the band names from the top down
    ("top 10%", "80-90%", ..., "bottom 50%")."""
    q = np.sort(np.asarray(quantiles, dtype=float))
    if q.size == 0 or q[0] <= 0 or q[-1] >= 1:
        raise ValueError(f"score band quantiles must lie strictly between 0 and 1, got {list(quantiles)}")
    finite = score[np.isfinite(score)]
    edges = np.quantile(finite, q) if finite.size else np.zeros(q.size)
    pct = [round(100 * x) for x in q]
    names = [f"top {100 - pct[-1]}%"]
    names += [f"{lo}-{hi}%" for lo, hi in zip(pct[-2::-1], pct[:0:-1])]
    names.append(f"bottom {pct[0]}%")
    return edges, tuple(names)


def make_field(
    score,
    handoff,
    p,
    value,
    *,
    capacity: SalesCapacity,
    window: Window,
    policies,
    band_quantiles,
    band_threshold,
    kept_history,
    returns_score=None,
    returns_handoff=None,
    thresholds=(),
    handoff_for=None,
) -> Field:
    """The tournament's leads (and second trips) in handoff order, with their chances,
    values and score bands, cut on the scores of the MQLs of ``band_threshold``;
    ``handoff_for(threshold)`` gives every scored lead's handoff under that threshold (the
    moment its score first reaches it), kept for each MQL set of ``thresholds``."""
    score = np.asarray(score, dtype=float)
    edges, names = band_edges(score[score >= band_threshold], band_quantiles)
    n = score.size
    p, value = np.asarray(p, dtype=float), np.asarray(value, dtype=float)
    if returns_score is not None and len(returns_score):
        extra = len(returns_score)
        score = np.concatenate([score, np.asarray(returns_score, dtype=float)])
        handoff = np.concatenate([handoff, np.asarray(returns_handoff, dtype=float)])
        p, value = np.concatenate([p, np.zeros(extra)]), np.concatenate([value, np.zeros(extra)])
    inputs = _sim_inputs(score, handoff, np.array([0.0]), capacity=capacity, window=window, sizes=None)
    order = np.argsort(handoff, kind="stable")
    s = score[order]
    band = np.where(np.isfinite(s), edges.size - np.searchsorted(edges, s, side="right"), -1)
    moments = {}
    if handoff_for is not None:
        desc = np.sort(inputs.score)[::-1]
        for threshold in thresholds:
            count = _mql_count(desc, threshold)
            if count in moments:
                continue
            moved = np.asarray(handoff_for(threshold), dtype=float)
            at = np.concatenate([moved, handoff[n:]])[order][inputs.score >= threshold]
            moments[count] = (at, inputs.sla.deadlines(at, window.start, window.queue_days))
    return Field(
        inputs=inputs,
        first_trip=order < n,
        p=p[order],
        value=value[order],
        band=band.astype(np.int64),
        band_names=names,
        policies=tuple(policies),
        kept_history=float(kept_history),
        moments=moments,
    )


def _kept_after(inp, wait: np.ndarray) -> np.ndarray:
    """The share of each lead's value kept after its wait (0 if never touched)."""
    touched = np.isfinite(wait)
    w0 = np.where(touched, wait, 0.0)
    return np.where(touched, inp.funnel.connect_decay(w0) * inp.funnel.qualify_decay(w0), 0.0)


def _seed_setup(field: Field, seed: int):
    """One seed's draws for every lead and the reps' shrunk calendars (the streams of
    ``calibrate.sla.simulated_load``)."""
    inp = field.inputs
    cal_seq, draw_seq = np.random.SeedSequence(seed).spawn(2)
    draws = _draws(inp, draw_seq)
    intervals = inp.team.working_intervals(inp.window.start, inp.window.queue_days, rng=np.random.default_rng(cal_seq))
    return draws, intervals


def _measure(field: Field, idx: np.ndarray, touch: np.ndarray, months: float, moments=None) -> tuple[dict, list[dict]]:
    """The run's figures and its figures by score band (``moments``: the handoffs and
    deadlines the run had, when not the inputs')."""
    inp = field.inputs
    touched = np.isfinite(touch)
    h, deadline = (inp.handoff[idx], inp.deadline[idx]) if moments is None else moments
    wait = np.where(touched, touch - h, np.inf)
    kept = _kept_after(inp, wait)
    scale = 1.0 / (field.kept_history * months)
    won = field.p[idx] * kept * scale
    met = touch <= deadline
    med, p90 = _quantiles(wait)
    first = field.first_trip[idx]
    run = {
        "mqls_per_month": np.count_nonzero(first) / months,
        "touched_per_month": np.count_nonzero(touched & first) / months,
        "sla_compliance": float(np.count_nonzero(met)) / idx.size if idx.size else np.nan,
        "median_response_hours": med / 60.0,
        "p90_response_hours": p90 / 60.0,
        "wins_per_month": float(won.sum()),
        "revenue_per_month": float((field.value[idx] * kept).sum() * scale),
    }
    bands = []
    band = field.band[idx]
    for b in range(len(field.band_names)):
        sel = band == b
        n = int(np.count_nonzero(sel))
        mqls = int(np.count_nonzero(sel & first))
        hours = wait[sel & touched] / 60.0
        bands.append(
            {
                "band": field.band_names[b],
                "mqls_per_month": mqls / months,
                "sla_compliance": float(np.count_nonzero(met[sel])) / n if n else np.nan,
                "median_response_hours": _quantiles(wait[sel], (0.5,))[0] / 60.0 if n else np.nan,
                "mean_response_hours": float(hours.mean()) if hours.size else np.nan,
                "wins_per_month": float(won[sel].sum()),
            }
        )
    return run, bands


def play_seed(field: Field, thresholds: np.ndarray, seed: int) -> tuple[list[dict], list[dict]]:
    """Every policy and threshold of one seed, with common random numbers."""
    inp = field.inputs
    draws, intervals = _seed_setup(field, seed)
    months = inp.window.months
    desc = np.sort(inp.score)[::-1]
    runs, bands = [], []
    for name, policy in zip(_names(field.policies), field.policies):
        team, sla = policy.apply(inp.team, inp.sla)
        done: dict[int, tuple[dict, list[dict]]] = {}
        for threshold in thresholds:
            count = _mql_count(desc, threshold)
            if count not in done:
                idx = np.flatnonzero(inp.score >= threshold)
                moments = field.moments.get(count)
                touch = serve(inp, draws, idx, intervals, team, sla, moments).first_touch_at
                done[count] = _measure(field, idx, touch, months, moments)
            run, by_band = done[count]
            key = {"policy": name, "threshold": float(threshold), "seed": int(seed)}
            runs.append(key | run)
            bands.extend(key | row for row in by_band)
    return runs, bands


def _names(policies: Sequence[Policy]) -> list[str]:
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise ValueError(f"the tournament's policies must differ, got {names}")
    return names


def play(
    field: Field, thresholds: np.ndarray, seeds: Sequence[int], *, workers: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs and band rows of every seed (``RUN_COLUMNS``, ``BAND_COLUMNS``), in seed order;
    ``workers`` processes share the seeds (the numbers do not depend on it)."""
    _names(field.policies)
    if workers > 1 and len(seeds) > 1:
        with cf.ProcessPoolExecutor(max_workers=min(workers, len(seeds))) as pool:
            parts = list(pool.map(play_seed, [field] * len(seeds), [thresholds] * len(seeds), seeds))
    else:
        parts = [play_seed(field, thresholds, s) for s in seeds]
    runs = pd.DataFrame([r for part in parts for r in part[0]], columns=list(RUN_COLUMNS))
    bands = pd.DataFrame([r for part in parts for r in part[1]], columns=list(BAND_COLUMNS))
    return runs, bands


def credit_spread(field: Field, picks: dict, seeds: Sequence[int], reference: str, objective: str) -> dict[str, float]:
    """The standard deviation of each pick's paired gain over the ``reference`` pick that
    comes from the outcomes the chances were learned from (a lead's win is a Bernoulli
    draw of its chance, as in the trade-off table's intervals): ``sqrt(sum_i E[y_i^2]
    d_i^2)``, with ``d_i`` the lead's credited value under the pick less under the
    reference, its kept share averaged over ``seeds``.

    ``picks`` maps a policy name to ``(policy, threshold)`` (nan: none); returns nan for a
    pick without a threshold.
    """
    inp = field.inputs
    months = inp.window.months
    mean_kept = {name: np.zeros(inp.score.size) for name in picks}
    desc = np.sort(inp.score)[::-1]
    for seed in seeds:
        draws, intervals = _seed_setup(field, seed)
        for name, (policy, threshold) in picks.items():
            if not np.isfinite(threshold):
                continue
            team, sla = policy.apply(inp.team, inp.sla)
            idx = np.flatnonzero(inp.score >= threshold)
            moments = field.moments.get(_mql_count(desc, threshold))
            touch = serve(inp, draws, idx, intervals, team, sla, moments).first_touch_at
            h = inp.handoff[idx] if moments is None else moments[0]
            mean_kept[name][idx] += _kept_after(inp, np.where(np.isfinite(touch), touch - h, np.inf)) / len(seeds)
    with np.errstate(invalid="ignore", divide="ignore"):
        second = field.p if objective == "wins_per_month" else np.where(field.p > 0, field.value**2 / field.p, 0.0)
    scale = 1.0 / (field.kept_history * months)
    out = {}
    for name, (_, threshold) in picks.items():
        d = mean_kept[name] - mean_kept[reference]
        ok = np.isfinite(threshold) and np.isfinite(picks[reference][1])
        out[name] = float(np.sqrt((second * d**2).sum()) * scale) if ok else np.nan
    return out
