"""The behaviour event stream of each lead, driven by its intent through the buyer journey."""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from simulate.leads import LeadArrays
from simulate.scenario import Scenario
from simulate.table import EVENT_KINDS

MINUTES_PER_DAY = 1440.0


@dataclass(frozen=True, slots=True)
class EventArrays:
    """Every behaviour event, grouped by lead (arrival order) and in time order within a lead.

    ``offsets[i]:offsets[i+1]`` are lead ``i``'s events; ``kind`` indexes ``EVENT_KINDS``.
    ``counts`` is the (leads x kinds) number of events over each lead's whole stream, and
    ``consideration_min`` / ``decision_min`` when the lead entered those journey stages
    (``nan`` if it never did).
    """

    lead: np.ndarray
    t_min: np.ndarray
    kind: np.ndarray
    offsets: np.ndarray
    counts: np.ndarray
    consideration_min: np.ndarray
    decision_min: np.ndarray


@numba.njit(cache=True)
def _journey_kernel(
    rng,
    intent,
    bad_data,
    rates,
    sens,
    email,
    mean_active,
    max_active,
    active_slope,
    c_logit,
    c_slope,
    days_c,
    d_logit,
    d_slope,
    days_d,
):  # pragma: no cover
    """Per lead: active span, stage starts (days), events in each stage and kind tilts."""
    n, k = intent.size, rates.shape[0]
    stage_counts = np.zeros((n, 3), dtype=np.int64)
    starts = np.empty((n, 4))  # creation, consideration, decision, end of activity (days)
    reach_c = np.zeros(n, dtype=np.bool_)
    reach_d = np.zeros(n, dtype=np.bool_)
    tilts = np.empty((n, k))
    for i in range(n):
        tilt = tilts[i]
        u = intent[i]
        span = min(rng.exponential(mean_active * np.exp(active_slope * u)), max_active)
        to_c = rng.exponential(days_c)
        to_d = to_c + rng.exponential(days_d)
        u_c = rng.random()
        u_d = rng.random()
        rc = u_c < 1.0 / (1.0 + np.exp(-(c_logit + c_slope * u))) and to_c < span
        rd = rc and u_d < 1.0 / (1.0 + np.exp(-(d_logit + d_slope * u))) and to_d < span
        c = to_c if rc else span
        d = to_d if rd else span
        starts[i, 0], starts[i, 1], starts[i, 2], starts[i, 3] = 0.0, c, d, span
        reach_c[i], reach_d[i] = rc, rd
        for j in range(k):
            tilt[j] = 0.0 if (j == email and bad_data[i]) else np.exp(sens[j] * u)
        for s in range(3):
            rate = 0.0
            for j in range(k):
                rate += rates[j, s] * tilt[j]
            lam = rate * (starts[i, s + 1] - starts[i, s])
            if lam > 0.0:
                stage_counts[i, s] = rng.poisson(lam)
    return stage_counts, starts, reach_c, reach_d, tilts


@numba.njit(cache=True)
def _event_kernel(rng, created, stage_counts, offsets, starts, rates, tilts):  # pragma: no cover
    """Event times (whole seconds, in minutes) and kinds, in time order within each lead.

    Within a stage the merged stream of all kinds is a Poisson process: given its count, the
    times are sorted uniforms (drawn in order as normalised exponential spacings) and each
    event's kind is drawn in proportion to the kinds' rates.
    """
    n, k = created.size, rates.shape[0]
    total = offsets[n]
    t = np.empty(total)
    kind = np.empty(total, dtype=np.int8)
    lead = np.empty(total, dtype=np.int32)
    counts = np.zeros((n, k), dtype=np.int32)
    cum = np.empty(k)
    for i in range(n):
        pos = offsets[i]
        if pos == offsets[i + 1]:
            continue
        tilt = tilts[i]
        for s in range(3):
            m = stage_counts[i, s]
            if m == 0:
                continue
            acc = 0.0
            for j in range(k):
                acc += rates[j, s] * tilt[j]
                cum[j] = acc
            spacing = 0.0
            for e in range(pos, pos + m):
                spacing += rng.standard_exponential()
                t[e] = spacing
                target = rng.random() * acc
                j = 0
                while j < k - 1 and cum[j] <= target:
                    j += 1
                kind[e] = j
                counts[i, j] += 1
                lead[e] = i
            spacing += rng.standard_exponential()
            scale = (starts[i, s + 1] - starts[i, s]) * 1440.0 / spacing
            origin = created[i] + starts[i, s] * 1440.0
            for e in range(pos, pos + m):
                # whole seconds, as a CRM stores them
                t[e] = np.floor((origin + scale * t[e]) * 60.0 + 0.5) / 60.0
            pos += m
    return t, kind, lead, counts


def simulate_events(scenario: Scenario, leads: LeadArrays, *, rng) -> EventArrays:
    """Draw each lead's behaviour events (the generating model is in ``Behaviour``'s docstring).

    Parameters
    ----------
    scenario : the world; uses ``behaviour``.
    leads : the population from ``simulate_leads``.
    rng : seed or ``numpy.random.Generator``.
    """
    rng = np.random.default_rng(rng)
    b = scenario.behaviour
    rates = np.asarray([b.rates[kind] for kind in EVENT_KINDS], dtype=float)  # (k, 3) per day
    sens = np.asarray([b.intent_sensitivity.get(kind, 0.0) for kind in EVENT_KINDS])
    email = EVENT_KINDS.index("email_click")
    stage_counts, starts, reach_c, reach_d, tilts = _journey_kernel(
        rng,
        leads.intent,
        leads.bad_data,
        rates,
        sens,
        email,
        b.mean_active_days,
        b.max_active_days,
        b.active_days_intent_slope,
        b.consideration_logit,
        b.consideration_slope,
        b.days_to_consideration,
        b.decision_logit,
        b.decision_slope,
        b.days_to_decision,
    )
    offsets = np.zeros(leads.n + 1, dtype=np.int64)
    np.cumsum(stage_counts.sum(axis=1), out=offsets[1:])
    t, kind, lead, counts = _event_kernel(rng, leads.created_min, stage_counts, offsets, starts, rates, tilts)
    day = 1440.0
    return EventArrays(
        lead=lead,
        t_min=t,
        kind=kind,
        offsets=offsets,
        counts=counts,
        consideration_min=np.where(reach_c, leads.created_min + starts[:, 1] * day, np.nan),
        decision_min=np.where(reach_d, leads.created_min + starts[:, 2] * day, np.nan),
    )
