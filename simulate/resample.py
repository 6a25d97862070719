"""A world whose leads are drawn from a history's own leads instead of the generating model.

``LeadSample`` holds what a history says about its leads: who they are (source, lead type,
fit attributes, company size, with blanks kept blank), what they did (each lead's behaviour
events, as minutes after its creation), when the rules in force made them MQLs, and what
they are worth: each lead's chance to win if touched at once and its chance of bad contact
data (fitted by ``calibrate.world``). ``run_sample`` simulates a new history of a scenario
with it: arrivals follow the scenario's ``Arrivals``; each arriving lead of a source is a
copy of a random history lead of that source, with its behaviour re-timed to its new
creation; the queue, the team and the funnel are the scenario's, as in ``simulate.run``.

The split of the chance to win into the funnel's stages follows ``Truth``: ``p_stage =
p ** stage_exponents[stage]``; fit and BANT are drawn once per lead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulate.arrivals import simulate_arrivals
from simulate.behaviour import EventArrays
from simulate.leads import LeadArrays
from simulate.scenario import Scenario, Truth
from simulate.table import CATEGORICAL_ATTRIBUTES, EVENT_KINDS, LEAD_TYPES
from simulate.truth import BANT, TruthArrays

__all__ = ["LeadSample", "run_sample"]

STAGES = ("connect", "fit", "bant", "opportunity", "won")


@dataclass(frozen=True, slots=True, eq=False)
class LeadSample:
    """The leads of a history to draw new leads from (one entry per history lead).

    Attributes
    ----------
    categories : value names of ``source``, ``lead_type`` and each fit attribute.
    source, lead_type : integer codes into ``categories``.
    attributes : fit attribute codes (-1: blank in the history).
    company_size : employees (nan: unknown).
    p_win : chance to win if a rep touched the lead at once, given good contact data.
    bad_data_share : chance that its contact data is bad (1 or 0 where the history showed it).
    event_offsets : ``event_offsets[i]:event_offsets[i+1]`` are lead ``i``'s events.
    event_after_min : minutes from the lead's creation to each event.
    event_kind : codes into ``EVENT_KINDS``.
    mql_after_min : minutes from creation to the MQL moment the rules in force gave it
        (nan: never an MQL), for replaying the history under its own, unwritten rules.
    returned_after_min : minutes from creation to its comeback from nurture (nan: none).
    stage_exponents : how the chance splits into the funnel's stages (``Truth``).
    pool : the leads new leads are copied from (default all): leads too young for their
        MQL moment to be known can be left out.
    """

    categories: dict[str, tuple[str, ...]]
    source: np.ndarray
    lead_type: np.ndarray
    attributes: dict[str, np.ndarray]
    company_size: np.ndarray
    p_win: np.ndarray
    bad_data_share: np.ndarray
    event_offsets: np.ndarray
    event_after_min: np.ndarray
    event_kind: np.ndarray
    mql_after_min: np.ndarray
    returned_after_min: np.ndarray
    stage_exponents: dict[str, float] = field(default_factory=lambda: dict(Truth().stage_exponents))
    pool: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self.source.size
        if n == 0:
            raise ValueError("LeadSample: a world needs at least one history lead to draw from")
        for name in ("lead_type", "company_size", "p_win", "bad_data_share", "mql_after_min", "returned_after_min"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"LeadSample.{name} must have one value per lead ({n})")
        if self.event_offsets.shape != (n + 1,) or self.event_offsets[-1] != self.event_after_min.size:
            raise ValueError("LeadSample.event_offsets must bound every lead's events")
        if tuple(self.categories.get("lead_type", LEAD_TYPES)) != LEAD_TYPES:
            raise ValueError(f"LeadSample lead types must be {LEAD_TYPES}")
        missing = sorted(set(STAGES) - set(self.stage_exponents))
        if missing:
            raise ValueError(f"LeadSample.stage_exponents lacks {missing}")

    @property
    def n(self) -> int:
        return int(self.source.size)


def _pick(sample: LeadSample, source_names: tuple[str, ...], arrival_source: np.ndarray, rng) -> np.ndarray:
    """For each arrival, a random history lead of its source (any lead if the history has
    none of that source)."""
    names = sample.categories["source"]
    code_of = {name: i for i, name in enumerate(names)}
    members = np.arange(sample.n) if sample.pool is None else np.flatnonzero(sample.pool)
    if members.size == 0:
        members = np.arange(sample.n)
    order = members[np.argsort(sample.source[members], kind="stable")]
    bounds = np.searchsorted(sample.source[order], np.arange(len(names) + 1))
    picked = np.empty(arrival_source.size, dtype=np.int64)
    u = rng.random(arrival_source.size)
    for j, name in enumerate(source_names):
        at = arrival_source == j
        lo, hi = (bounds[code_of[name]], bounds[code_of[name] + 1]) if name in code_of else (0, 0)
        if hi > lo:
            picked[at] = order[lo + np.minimum((u[at] * (hi - lo)).astype(np.int64), hi - lo - 1)]
        else:
            picked[at] = order[np.minimum((u[at] * order.size).astype(np.int64), order.size - 1)]
    return picked


def draw_from_sample(
    scenario: Scenario, sample: LeadSample, *, rng
) -> tuple[LeadArrays, EventArrays, TruthArrays, np.ndarray]:
    """New leads, their events and their truth, drawn from ``sample``; and each new lead's
    index in the sample."""
    rng = np.random.default_rng(rng)
    arrival_rng, pick_rng, bad_rng, truth_rng = rng.spawn(4)
    arrivals = simulate_arrivals(scenario, rng=arrival_rng)
    source_names = tuple(scenario.population.sources)
    picked = _pick(sample, source_names, arrivals.source, pick_rng)
    n = picked.size
    cats = dict(sample.categories)
    cats["source"] = source_names
    bad = bad_rng.random(n) < sample.bad_data_share[picked]
    leads = LeadArrays(
        created_min=arrivals.created_min,
        source=arrivals.source,
        campaign=arrivals.campaign,
        lead_type=sample.lead_type[picked].astype(np.int8),
        attributes={a: sample.attributes[a][picked] for a in CATEGORICAL_ATTRIBUTES},
        company_size=sample.company_size[picked].astype(float),
        fit=np.zeros(n),
        intent=np.zeros(n),
        bad_data=bad,
        categories=cats,
    )
    events = _events(sample, picked, arrivals.created_min)
    truth = _truth(sample, picked, bad, truth_rng)
    return leads, events, truth, picked


def _events(sample: LeadSample, picked: np.ndarray, created: np.ndarray) -> EventArrays:
    """The picked leads' events, re-timed to their new creation (in time order per lead)."""
    lo, hi = sample.event_offsets[picked], sample.event_offsets[picked + 1]
    per_lead = hi - lo
    offsets = np.zeros(picked.size + 1, dtype=np.int64)
    np.cumsum(per_lead, out=offsets[1:])
    lead = np.repeat(np.arange(picked.size), per_lead)
    source_index = np.repeat(lo - offsets[:-1], per_lead) + np.arange(offsets[-1])
    t = created[lead] + sample.event_after_min[source_index]
    kind = sample.event_kind[source_index].astype(np.int8)
    counts = np.zeros((picked.size, len(EVENT_KINDS)), dtype=np.int64)
    np.add.at(counts, (lead, kind), 1)
    none = np.full(picked.size, np.nan)
    return EventArrays(
        lead=lead,
        t_min=t,
        kind=kind,
        offsets=offsets,
        counts=counts,
        consideration_min=none,
        decision_min=none.copy(),
    )


def _truth(sample: LeadSample, picked: np.ndarray, bad: np.ndarray, rng) -> TruthArrays:
    """Stage chances as powers of each lead's chance to win (``Truth``'s split)."""
    p = np.clip(sample.p_win[picked], 1e-9, 1.0)
    a = sample.stage_exponents
    u = rng.random((3, picked.size))
    bant_ok = u[1] < p ** a["bant"]
    failing = np.minimum((u[2] * len(BANT)).astype(np.int64), len(BANT) - 1)
    bant = {name: bant_ok | (failing != j) for j, name in enumerate(BANT)}
    return TruthArrays(
        logit=np.log(p / np.maximum(1.0 - p, 1e-12)),
        p_buy=np.where(bad, 0.0, p),
        p_connect=np.where(bad, 0.0, p ** a["connect"]),
        p_opportunity=p ** a["opportunity"],
        p_won=p ** a["won"],
        fit_ok=u[0] < p ** a["fit"],
        bant=bant,
    )


def run_sample(scenario: Scenario, sample: LeadSample, seed: int = 0, *, history_rules: bool = False):
    """Simulate one history of ``scenario`` whose leads are drawn from ``sample``.

    ``history_rules=True`` replays the rules that made the history without knowing them:
    each new lead is an MQL exactly when, and as long after its creation as, the history
    lead it copies was, and comes back from nurture as long after its creation as its copy
    did (if it was recycled by then). Otherwise the scenario's rules score the re-timed events, as in
    ``simulate.run``. The same seed gives the same leads whatever the rules (common random
    numbers for paired comparisons).
    """
    from simulate.simulation import assemble

    draw_seed, sales_seed = np.random.SeedSequence(seed).spawn(2)
    leads, events, truth, picked = draw_from_sample(scenario, sample, rng=np.random.default_rng(draw_seed))
    mql = comeback = None
    if history_rules:
        mql_min = leads.created_min + sample.mql_after_min[picked]
        mql_min = np.where(mql_min < scenario.days * 1440.0, mql_min, np.nan)
        mql = (mql_min, np.full(leads.n, np.nan), np.zeros(leads.n))
        comeback = leads.created_min + sample.returned_after_min[picked]
    return assemble(scenario, leads, events, truth, sales_seed=sales_seed, seed=seed, mql=mql, comeback_at=comeback)
