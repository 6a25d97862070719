"""After the handoff: the queue, the first touch and everything after it, to won or lost.

For every MQL the sales side goes like this (the hidden truth decides each step):

1. The lead waits in the queue (``simulate.queue.serve_queue``) for its first touch; at an SLA
   breach it may be reassigned, escalated or recycled untouched (``sla_breach``).
2. Bad contact data shows at the first attempt (``bad_data``). A lead that is reachable at
   all (chance ``p_connect``) answers at attempt ``K`` (truncated geometric with
   ``attempt_connect_share`` per attempt); the others use up the cadence (``unreachable``).
   Every attempt costs rep time, which is what slows the queue for everyone else.
3. Reached, the lead is still interested with chance ``connect_decay(response time)``, else it
   is ``returned_not_ready``. Sales accepts it (SAL) if it fits (existing customers always
   do), else ``not_a_fit``. It is qualified (SQL) if its BANT holds and it is still keen, with
   chance ``qualify_decay(response time)``; else ``no_bant`` or ``returned_not_ready``.
4. An opportunity opens with chance ``p_opportunity`` (else ``returned_not_ready``); a meeting
   is booked, a proposal follows, and the deal is won with chance ``p_won``; lost deals are
   lost before or after the proposal, or put on hold.
5. Leads recycled to nurture (unreachable, not ready, no BANT, SLA breach) can come back once:
   at their first event at least ``nurture_days`` after their first MQL moment (and after
   the recycling) at which the score meets the rule again, they are handed to sales a second
   time (with fresh chances for every draw).

At zero response time the chances multiply to the truth's ``p_buy``, so a lead touched at
once wins with exactly its true chance; waiting costs ``connect_decay * qualify_decay``.
Everything after the as-of date is unknown to the history and left empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from simulate.queue import serve_queue
from simulate.scoring import score_stream
from simulate.spec import check, check_probability
from simulate.table import RECYCLE_REASONS

if TYPE_CHECKING:  # pragma: no cover
    from simulate.behaviour import EventArrays
    from simulate.leads import LeadArrays
    from simulate.scenario import Scenario
    from simulate.truth import TruthArrays

MINUTES_PER_DAY = 1440.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ResponseDecay:
    """Share of a lead's interest left after waiting ``t`` minutes for the first touch.

    ``decay(t) = floor + sum_j weight_j * 0.5 ** (t / half_life_j)``, with the weights and
    the floor adding up to 1, so ``decay(0) = 1``. Several phases are needed because the
    published lead-response studies imply half-lives from minutes to hours: Oldroyd,
    McElheran and Elkington (HBR, March 2011, "The Short Life of Online Sales Leads") found
    firms that answered within an hour nearly 7 times as likely to qualify the lead as those
    an hour later, and over 60 times as likely as after a day; the MIT / InsideSales.com
    Lead Response Management study (Oldroyd, 2007) found 21 times the odds of qualifying at
    5 rather than 30 minutes. Those are cross-firm comparisons (fast firms are better at
    everything), so the defaults are deliberately milder: the fast phase is lost within the
    hour, the slow one within days, and a floor of leads still shopping remains. Set your
    own phases to test the literal figures.
    """

    phases: tuple[tuple[float, float], ...]
    floor: float

    def __post_init__(self) -> None:
        for weight, half_life in self.phases:
            check(weight >= 0, f"ResponseDecay.phases weights must be >= 0, got {weight}")
            check(half_life > 0, f"ResponseDecay.phases half-lives must be > 0, got {half_life}")
        check_probability("ResponseDecay.floor", self.floor)
        total = self.floor + sum(w for w, _ in self.phases)
        check(abs(total - 1) < 1e-9, f"ResponseDecay weights and floor must add up to 1, got {total:.6g}")

    def __call__(self, minutes: np.ndarray) -> np.ndarray:
        t = np.maximum(np.asarray(minutes, dtype=float), 0.0)
        out = np.full(t.shape, self.floor)
        for weight, half_life in self.phases:
            out = out + weight * np.exp2(-t / half_life)
        return out

    @property
    def rates_per_minute(self) -> tuple[tuple[float, float], ...]:
        """``(weight, k)`` with ``decay(t) = sum weight * exp(-k t)`` (the floor has k = 0)."""
        return ((self.floor, 0.0), *((w, np.log(2) / h) for w, h in self.phases))


@dataclass(frozen=True, slots=True, kw_only=True)
class Funnel:
    """How worked MQLs move to won or lost (see the module docstring)."""

    connect_decay: ResponseDecay = ResponseDecay(phases=((0.30, 15.0), (0.30, 720.0)), floor=0.40)
    qualify_decay: ResponseDecay = ResponseDecay(phases=((0.25, 30.0), (0.35, 1440.0)), floor=0.40)
    attempt_connect_share: float = 0.4
    days_to_sql: float = 3.0
    days_to_opportunity: float = 7.0
    days_to_close_new: float = 60.0
    days_to_close_expansion: float = 30.0
    close_spread: float = 0.5
    proposal_share_of_cycle: float = 0.5
    on_hold_share: float = 0.15
    lost_after_proposal_share: float = 0.6
    amount_new_median: float = 24_000.0
    amount_size_elasticity: float = 0.3
    amount_expansion_median: float = 12_000.0
    amount_spread: float = 0.6
    nurture_returns: bool = True
    nurture_days: float = 60.0

    def __post_init__(self) -> None:
        for name in ("attempt_connect_share", "proposal_share_of_cycle", "on_hold_share", "lost_after_proposal_share"):
            check_probability(f"Funnel.{name}", getattr(self, name))
        check(self.attempt_connect_share > 0, "Funnel.attempt_connect_share must be > 0")
        for name in (
            "days_to_sql",
            "days_to_opportunity",
            "days_to_close_new",
            "days_to_close_expansion",
            "amount_new_median",
            "amount_expansion_median",
        ):
            check(getattr(self, name) > 0, f"Funnel.{name} must be > 0, got {getattr(self, name)}")
        check(self.nurture_days >= 0, f"Funnel.nurture_days must be >= 0, got {self.nurture_days}")
        for name in ("close_spread", "amount_spread"):
            check(getattr(self, name) >= 0, f"Funnel.{name} must be >= 0, got {getattr(self, name)}")


@dataclass(frozen=True, slots=True)
class SalesArrays:
    """Sales outcomes per handoff in minutes (``nan`` where not reached).

    One entry per trip of a lead through sales: ``index`` is the lead's position in the lead
    arrays and ``cycle`` is 0 for its first MQL moment and 1 when it came back from nurture.
    Times after the as-of date are kept here (they are masked in the lead table).
    ``reason`` indexes ``RECYCLE_REASONS`` (-1 none).
    """

    index: np.ndarray
    cycle: np.ndarray
    handoff: np.ndarray
    deadline: np.ndarray
    first_touch: np.ndarray
    rep: np.ndarray
    attempts: np.ndarray
    work_minutes: np.ndarray
    follow_up_minutes: np.ndarray
    attempt_lead: np.ndarray
    attempt_at: np.ndarray
    breach_recycled: np.ndarray
    connect: np.ndarray
    sal: np.ndarray
    sql: np.ndarray
    opportunity: np.ndarray
    proposal: np.ndarray
    closed: np.ndarray
    won: np.ndarray
    on_hold: np.ndarray
    amount: np.ndarray
    recycled_at: np.ndarray
    reason: np.ndarray
    rep_intervals: list[np.ndarray]
    busy_minutes: np.ndarray


NURTURE_REASONS = ("unreachable", "returned_not_ready", "no_bant", "sla_breach")
"""Recycled for these reasons a lead goes back to nurture and may come back as an MQL."""

_DRAWS = 14  # uniforms per handoff: every random choice of one trip through sales


def answering_attempt(u: np.ndarray, *, attempts: int, attempt_connect_share: float) -> np.ndarray:
    """The attempt at which a reachable lead answers, from uniforms ``u``.

    Each attempt reaches it with chance ``attempt_connect_share``; given that one of the
    ``attempts`` does, the answering one is a truncated geometric (inverse CDF of ``u``).
    """
    pa = attempt_connect_share
    if pa < 1:
        cdf_all = 1.0 - (1.0 - pa) ** attempts
        k = np.ceil(np.log1p(-u * cdf_all) / np.log1p(-pa))
    else:
        k = np.ones(np.shape(u))
    return np.clip(k, 1, attempts).astype(np.int64)


def _nth_attempt_times(n: int, attempt_lead: np.ndarray, attempt_at: np.ndarray, max_attempts: int) -> np.ndarray:
    """``(n, max_attempts - 1)`` start time of follow-up ``j`` (attempt ``j + 2``) per entry."""
    out = np.full((n, max(max_attempts - 1, 0)), np.nan)
    if attempt_lead.size:
        order = np.lexsort((attempt_at, attempt_lead))
        lead, at = attempt_lead[order], attempt_at[order]
        first = np.r_[0, np.flatnonzero(np.diff(lead)) + 1]
        rank = np.arange(lead.size) - np.repeat(first, np.diff(np.r_[first, lead.size]))
        out[lead, rank] = at
    return out


def _work(
    scenario: Scenario,
    leads: LeadArrays,
    truth: TruthArrays,
    index: np.ndarray,
    cycle: np.ndarray,
    handoff: np.ndarray,
    score: np.ndarray,
    u: np.ndarray,
    rep_intervals: list[np.ndarray],
    horizon_days: int,
) -> SalesArrays:
    """One pass of all handoffs through the queue and the funnel; ``u`` (m, _DRAWS) uniforms."""
    team, sla, funnel = scenario.team, scenario.sla, scenario.funnel
    m = index.size
    bad = leads.bad_data[index]
    existing = leads.lead_type[index] == 1

    # contact attempts: bad data shows at once; the reachable answer at attempt K
    reachable = u[:, 0] < truth.p_connect[index]
    a_max = team.attempts
    k_answer = answering_attempt(u[:, 1], attempts=a_max, attempt_connect_share=funnel.attempt_connect_share)
    attempts = np.where(bad, 1, np.where(reachable, k_answer, a_max))

    work = team.first_touch.quantile(u[:, 2])
    follow = team.follow_up.quantile(u[:, 3])
    deadline = sla.deadlines(handoff, scenario.start_date, horizon_days)
    q = serve_queue(
        handoff,
        work,
        rep_intervals=rep_intervals,
        routing=team.routing,
        discipline=team.discipline,
        aging=team.aging_per_hour,
        score=np.nan_to_num(score),
        deadline_at=deadline,
        breach=sla.breach,
        attempts=attempts,
        attempt_gap_minutes=team.attempt_gap_minutes if a_max > 1 else None,
        attempt_minutes=follow if a_max > 1 else None,
        followups_first=team.followups_first,
        rep_on_team=team.on_team_minutes(scenario.start_date),
    )
    touch = q.first_touch_at
    wait = touch - handoff
    attempt_time = np.column_stack([touch, _nth_attempt_times(m, q.attempt_lead, q.attempt_at, a_max)])
    rows = np.arange(m)
    answer_at = attempt_time[rows, k_answer - 1]
    last_at = attempt_time[rows, attempts - 1]

    reason = np.full(m, -1)
    recycled_at = np.full(m, np.nan)
    code = {r: i for i, r in enumerate(RECYCLE_REASONS)}

    def recycle(mask: np.ndarray, why: str, at: np.ndarray) -> None:
        reason[mask] = code[why]
        recycled_at[mask] = at[mask]

    touched = np.isfinite(touch)
    recycle(q.recycled, "sla_breach", deadline)
    recycle(touched & bad, "bad_data", touch + work)
    recycle(touched & ~bad & ~reachable, "unreachable", last_at)
    connected = touched & ~bad & reachable & np.isfinite(answer_at)
    connect = np.where(connected, answer_at, np.nan)

    keen = connected & (u[:, 4] < funnel.connect_decay(wait))
    recycle(connected & ~keen, "returned_not_ready", connect)
    fits = keen & (truth.fit_ok[index] | existing)
    recycle(keen & ~fits, "not_a_fit", connect)
    sal = np.where(fits, connect, np.nan)

    day = MINUTES_PER_DAY
    to_sql = sal - np.log1p(-u[:, 5]) * funnel.days_to_sql * day
    bant_ok = truth.bant_ok[index]
    still_keen = u[:, 6] < funnel.qualify_decay(wait)
    qualified = fits & bant_ok & still_keen
    recycle(fits & ~bant_ok, "no_bant", to_sql)
    recycle(fits & bant_ok & ~still_keen, "returned_not_ready", to_sql)
    sql = np.where(qualified, to_sql, np.nan)

    to_opp = sql - np.log1p(-u[:, 7]) * funnel.days_to_opportunity * day
    opens = qualified & (u[:, 8] < truth.p_opportunity[index])
    recycle(qualified & ~opens, "returned_not_ready", to_opp)
    opportunity = np.where(opens, to_opp, np.nan)

    median_cycle = np.where(existing, funnel.days_to_close_expansion, funnel.days_to_close_new)
    length = median_cycle * np.exp(funnel.close_spread * ndtri(u[:, 9])) * day
    share = funnel.proposal_share_of_cycle
    wins = opens & (u[:, 10] < truth.p_won[index])
    on_hold = opens & ~wins & (u[:, 11] < funnel.on_hold_share)
    lost = opens & ~wins & ~on_hold
    lost_late = lost & (u[:, 12] < funnel.lost_after_proposal_share)
    closed = np.where(wins | lost_late, opportunity + length, np.nan)
    closed = np.where(lost & ~lost_late, opportunity + u[:, 12] * share * length, closed)
    proposal = np.where(wins | lost_late | on_hold, opportunity + share * length, np.nan)

    size = leads.company_size[index]
    amount_median = np.where(
        existing,
        funnel.amount_expansion_median,
        funnel.amount_new_median * (size / 150.0) ** funnel.amount_size_elasticity,
    )
    amount = amount_median * np.exp(funnel.amount_spread * ndtri(u[:, 13]))
    amount = np.where(opens, np.round(amount, -2), np.nan)

    return SalesArrays(
        index=index,
        cycle=cycle,
        handoff=handoff,
        deadline=deadline,
        first_touch=touch,
        rep=q.rep,
        attempts=attempts,
        work_minutes=work,
        follow_up_minutes=follow,
        attempt_lead=q.attempt_lead,
        attempt_at=q.attempt_at,
        breach_recycled=q.recycled,
        connect=connect,
        sal=sal,
        sql=sql,
        opportunity=opportunity,
        proposal=proposal,
        closed=closed,
        won=wins,
        on_hold=on_hold,
        amount=amount,
        recycled_at=recycled_at,
        reason=reason,
        rep_intervals=rep_intervals,
        busy_minutes=q.busy_minutes,
    )


def simulate_sales(
    scenario: Scenario,
    leads: LeadArrays,
    events: EventArrays,
    truth: TruthArrays,
    fit_points: np.ndarray,
    mql_min: np.ndarray,
    mql_score: np.ndarray,
    *,
    rng,
    comeback_at: np.ndarray | None = None,
) -> SalesArrays:
    """Run every MQL through the queue and the sales funnel (module docstring).

    Leads recycled to nurture (``NURTURE_REASONS``) come back once as MQLs at their first
    event at least ``Funnel.nurture_days`` after their first MQL moment (and after their
    recycling) at which their score meets the rule again; they then queue with everyone else.
    The queue is run again with the returns until the set of returns settles (at most 3
    passes; returns that the last pass no longer implies, typically under 1%, are dropped),
    with the same random numbers for every trip in every pass. ``comeback_at`` (per lead,
    nan for none) gives the moments leads come back instead (a replayed history whose rules
    are not known: they come back when their copies did, if recycled by then).
    """
    rng = np.random.default_rng(rng)
    team_rng, first_rng, return_rng = rng.spawn(3)
    funnel = scenario.funnel
    horizon_days = scenario.days + 45  # let the queue run past the as-of date
    as_of = scenario.days * MINUTES_PER_DAY
    rep_intervals = scenario.team.working_intervals(scenario.start_date, horizon_days, rng=team_rng)

    idx = np.flatnonzero(np.isfinite(mql_min) & (mql_min < as_of))
    # indexed by lead, like the returns: a lead that is an MQL under two rule sets gets the
    # same draws under both (common random numbers for paired comparisons)
    u_first = first_rng.random((leads.n, _DRAWS))[idx]
    u_return = return_rng.random((leads.n, _DRAWS))  # indexed by lead, used only by returns

    def run_pass(ret_idx: np.ndarray, ret_at: np.ndarray, ret_score: np.ndarray) -> SalesArrays:
        order = np.argsort(np.concatenate([mql_min[idx], ret_at]), kind="stable")
        return _work(
            scenario,
            leads,
            truth,
            index=np.concatenate([idx, ret_idx])[order],
            cycle=np.concatenate([np.zeros(idx.size, np.int8), np.ones(ret_idx.size, np.int8)])[order],
            handoff=np.concatenate([mql_min[idx], ret_at])[order],
            score=np.concatenate([mql_score[idx], ret_score])[order],
            u=np.concatenate([u_first, u_return[ret_idx]])[order],
            rep_intervals=rep_intervals,
            horizon_days=horizon_days,
        )

    # the moment each MQL would come back: its first event meeting the rule at least
    # nurture_days after its MQL moment (behaviour alone decides it, not the queue)
    not_before = np.full(leads.n, np.inf)
    not_before[idx] = mql_min[idx] + funnel.nurture_days * MINUTES_PER_DAY
    if comeback_at is None:
        back_at, _, back_score = score_stream(
            scenario.rules,
            fit_points,
            leads.created_min,
            events.offsets,
            events.t_min,
            events.kind,
            as_of,
            not_before=not_before,
        )
    else:
        back_at = np.where(np.isfinite(comeback_at) & (comeback_at < as_of), comeback_at, np.nan)
        back_score = np.zeros(leads.n)

    def returns_after(sales: SalesArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Leads recycled to nurture by their comeback moment come back then."""
        reasons = np.asarray(RECYCLE_REASONS)[np.maximum(sales.reason, 0)]
        cand = (sales.cycle == 0) & (sales.reason >= 0) & np.isin(reasons, NURTURE_REASONS)
        lead = sales.index[cand]
        cand_ok = sales.recycled_at[cand] <= back_at[lead]
        ret = np.sort(lead[cand_ok])
        return ret, back_at[ret], back_score[ret]

    returns = (np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))
    sales = run_pass(*returns)
    if not funnel.nurture_returns:
        return sales
    for _ in range(2):
        implied = returns_after(sales)
        if np.array_equal(implied[0], returns[0]) and np.array_equal(implied[1], returns[1]):
            return sales  # the returns this pass implies are the ones it ran with
        returns = implied
        sales = run_pass(*returns)
    # not settled: keep the returns the last pass still implies (rare; the dropped ones
    # took a little rep time in that pass)
    implied = returns_after(sales)
    keep = np.ones(sales.index.size, dtype=bool)
    again = np.flatnonzero(sales.cycle == 1)
    ok = dict(zip(implied[0].tolist(), implied[1].tolist()))
    for e in again:
        keep[e] = ok.get(int(sales.index[e])) == sales.handoff[e]
    return _keep_entries(sales, keep)


def _keep_entries(sales: SalesArrays, keep: np.ndarray) -> SalesArrays:
    """The same outcomes without the entries where ``keep`` is false."""
    new_position = np.cumsum(keep) - 1
    kept_attempt = keep[sales.attempt_lead]
    fields = {}
    for name in SalesArrays.__slots__:
        value = getattr(sales, name)
        if name in ("rep_intervals", "busy_minutes"):
            fields[name] = value
        elif name == "attempt_lead":
            fields[name] = new_position[value[kept_attempt]]
        elif name == "attempt_at":
            fields[name] = value[kept_attempt]
        else:
            fields[name] = value[keep]
    return SalesArrays(**fields)
