"""Tests for simulate.queue.serve_queue.

Three kinds: agreement with Erlang C on M/M/c inputs, exact agreement with a slow
minute-by-minute reference on small random integer cases, and properties.
"""

import datetime
import itertools
import math

import numpy as np
import pytest

import simulate.queue as queue_module
from simulate.calendar import ALWAYS_OPEN
from simulate.erlang import prob_wait_within
from simulate.queue import serve_queue

# --------------------------------------------------------------------------------------
# A slow, obviously correct reference: step through every integer minute.
# --------------------------------------------------------------------------------------


def reference_queue(
    handoff,
    work,
    rep_intervals,
    *,
    routing,
    discipline,
    score=None,
    aging=0.0,
    deadline=None,
    breach="none",
    attempts=None,
    gaps=None,
    attempt_minutes=None,
    followups_first=True,
):
    """Minute-by-minute simulation of the documented rules (integer inputs only).

    At each minute T, in this order: leads handed off at T join their queue; every rep who
    is free and working at T (lowest index first) takes his next job; leads whose deadline
    is T and who still wait are breached and the breach action applies (after a
    reassignment the reps get another chance to start at T); then each busy rep who works
    during [T, T + 1) does one minute of his job.
    """
    n, reps = len(handoff), len(rep_intervals)
    attempts = [1] * n if attempts is None else list(attempts)
    finite_deadlines = [] if deadline is None else [d for d in deadline if math.isfinite(d)]
    end = int(max([c for iv in rep_intervals for _, c in iv] + list(handoff) + finite_deadlines))
    end += 2
    working = np.zeros((reps, end + 1), dtype=bool)
    for r, iv in enumerate(rep_intervals):
        for o, c in iv:
            working[r, int(o) : int(c)] = True

    rank = {i: k for k, i in enumerate(sorted(range(n), key=lambda i: (handoff[i], i)))}
    pooled = routing == "pooled"
    state = ["pending"] * n
    owner = [-1] * n
    escalated = {}
    first = [math.nan] * n
    who = [-1] * n
    breached, recycled, reassigned = [False] * n, [False] * n, [False] * n
    queues = [[] for _ in range(1 if pooled else reps)]
    followups = [[] for _ in range(reps)]  # (due, rank, lead)
    job = [None] * reps  # [lead, minutes left]
    busy = [0] * reps
    made = [0] * n
    log = []

    def line_key(i):
        if i in escalated:
            return (0, escalated[i], 0)
        if discipline == "fifo":
            return (1, rank[i], 0)
        if discipline == "newest":
            return (1, -rank[i], 0)
        return (1, -(score[i] + aging * (now[0] - handoff[i]) / 60.0), rank[i])

    def next_working(r, T):
        later = np.flatnonzero(working[r, T:])
        return T + later[0] if later.size else math.inf

    def owner_at_handoff(i, T):
        if routing == "round_robin":
            return rank[i] % reps
        pool = list(range(reps))
        opening = [0] * reps
        if routing == "open_hours":
            opening = [next_working(r, T) for r in pool]
            if T in opening:
                pool = [r for r in pool if opening[r] == T]
        order = sorted(pool, key=lambda r: (len(queues[r]), opening[r], (r - rotation[0]) % reps))
        return order[0]

    now = [0]
    rotation = [0]

    def try_start(r, T):
        if job[r] is not None or not working[r, T]:
            return
        q = queues[0 if pooled else r]
        lead = min(q, key=line_key) if q else None
        due = [f for f in followups[r] if f[0] <= T]
        fu = min(due) if due else None
        if lead is None and fu is None:
            return
        if fu is not None and (followups_first or lead is None):
            followups[r].remove(fu)
            i, minutes = fu[2], attempt_minutes[fu[2]]
            log.append((T, i))
        else:
            q.remove(lead)
            i, minutes = lead, work[lead]
            state[i], first[i], who[i] = "started", T, r
        made[i] += 1
        if made[i] < attempts[i]:
            followups[r].append((T + gaps[made[i] - 1], rank[i], i))
        job[r] = [i, minutes]

    def backlog_end(r, T, i):
        """First working instant after the rep's current job and waiting first touches."""
        need = (job[r][1] if job[r] else 0) + sum(work[j] for j in queues[r] if j != i)
        t = T
        while need > 0:
            if t > end:
                return math.inf
            need -= working[r, t]
            t += 1
        while t <= end and not working[r, t]:
            t += 1
        return t if t <= end else math.inf

    by_deadline = sorted(
        (i for i in range(n) if deadline is not None and math.isfinite(deadline[i])),
        key=lambda i: (deadline[i], rank[i]),
    )
    for T in range(end + 1):
        now[0] = T
        for i in sorted((i for i in range(n) if handoff[i] == T), key=rank.get):
            state[i] = "waiting"
            r = 0 if pooled else owner_at_handoff(i, T)
            rotation[0] = (r + 1) % reps
            owner[i] = -1 if pooled else r
            queues[r].append(i)
        for r in range(reps):
            try_start(r, T)
        for i in (i for i in by_deadline if deadline[i] == T):
            if state[i] != "waiting":
                continue
            breached[i] = True
            q = queues[0 if pooled else owner[i]]
            if breach == "escalate":
                escalated[i] = len(escalated)
            elif breach == "recycle":
                q.remove(i)
                state[i], recycled[i] = "recycled", True
            elif breach == "reassign" and not pooled:
                est = [backlog_end(r, T, i) for r in range(reps)]
                target = owner[i] if est[owner[i]] == min(est) else est.index(min(est))
                if target != owner[i]:
                    q.remove(i)
                    queues[target].append(i)
                    owner[i], reassigned[i] = target, True
                    for r in range(reps):
                        try_start(r, T)
        for r in range(reps):
            if job[r] is not None and working[r, T]:
                job[r][1] -= 1
                busy[r] += 1
                if job[r][1] == 0:
                    job[r] = None
    for i in range(n):
        if state[i] != "started":
            breached[i] = True
            who[i] = owner[i]
    log.sort()
    return dict(
        first_touch_at=np.array(first),
        rep=np.array(who),
        breached=np.array(breached),
        recycled=np.array(recycled),
        reassigned=np.array(reassigned),
        attempt_at=np.array([t for t, _ in log], dtype=float),
        attempt_lead=np.array([i for _, i in log], dtype=np.int64),
        busy_minutes=np.array(busy, dtype=float),
    )


def random_case(rng, *, breach, followups):
    """A small integer case: 1-4 reps, 100-minute 'days' with weekends and offsets."""
    reps = int(rng.integers(1, 5))
    days = 8
    intervals = []
    for _ in range(reps):
        offset = int(rng.integers(0, 40))  # a time zone
        length = int(rng.integers(20, 60))
        off_days = set(rng.choice(days, size=int(rng.integers(0, 3)), replace=False).tolist())
        rows = [[100 * d + offset, 100 * d + offset + length] for d in range(days) if d not in off_days]
        if rng.random() < 0.3 and len(rows) > 1:  # a split shift (lunch break) on day 0
            o, c = rows[0]
            mid = (o + c) // 2
            rows[0:1] = [[o, mid - 1], [mid + 1, c]] if mid - 1 > o and mid + 1 < c else [[o, c]]
        intervals.append(np.array(rows, dtype=float).reshape(-1, 2))
    n = int(rng.integers(1, 30))
    span = int(rng.choice([20, 200, 700]))
    handoff = rng.integers(0, span, n).astype(float)
    work = rng.integers(1, 30, n).astype(float)
    case = dict(handoff=handoff, work=work, rep_intervals=intervals)
    case["score"] = rng.integers(0, 4, n).astype(float)
    if breach != "none" or rng.random() < 0.5:
        deadline = handoff + rng.integers(0, 150, n)
        deadline[rng.random(n) < 0.1] = np.inf
        case["deadline"] = deadline
    if followups:
        case["attempts"] = rng.integers(1, 4, n)
        case["gaps"] = rng.integers(0, 120, 2).astype(float)
        case["attempt_minutes"] = rng.integers(1, 15, n).astype(float)
    return case


def run_engine(case, **kw):
    return serve_queue(
        case["handoff"],
        case["work"],
        rep_intervals=case["rep_intervals"],
        score=case["score"],
        deadline_at=case.get("deadline"),
        attempts=case.get("attempts"),
        attempt_gap_minutes=case.get("gaps"),
        attempt_minutes=case.get("attempt_minutes"),
        **kw,
    )


def run_reference(case, **kw):
    return reference_queue(
        case["handoff"].tolist(),
        case["work"].tolist(),
        [iv.tolist() for iv in case["rep_intervals"]],
        score=case["score"].tolist(),
        deadline=None if "deadline" not in case else case["deadline"].tolist(),
        attempts=None if "attempts" not in case else case["attempts"].tolist(),
        gaps=case.get("gaps"),
        attempt_minutes=case.get("attempt_minutes"),
        **kw,
    )


def assert_same(result, expected):
    for name, want in expected.items():
        got = getattr(result, name)
        np.testing.assert_array_equal(got, want, err_msg=name)


ROUTINGS = ["round_robin", "pooled", "least_loaded", "open_hours"]
DISCIPLINES = ["fifo", "highest_score", "newest"]
BREACHES = ["none", "escalate", "reassign", "recycle"]


@pytest.mark.parametrize(
    ("routing", "discipline", "breach", "followups"),
    list(itertools.product(ROUTINGS, DISCIPLINES, BREACHES, [False, True])),
)
def test_matches_minute_by_minute_reference(routing, discipline, breach, followups):
    rng = np.random.default_rng(
        [ROUTINGS.index(routing), DISCIPLINES.index(discipline), BREACHES.index(breach), followups]
    )
    for _ in range(12):
        case = random_case(rng, breach=breach, followups=followups)
        kw = dict(routing=routing, discipline=discipline, breach=breach)
        if discipline == "highest_score" and rng.random() < 0.5:
            kw["aging"] = float(rng.choice([30.0, 60.0, 600.0]))
        if followups:
            kw["followups_first"] = bool(rng.random() < 0.5)
        assert_same(run_engine(case, **kw), run_reference(case, **kw))


def random_float_case(rng, n, reps):
    """Continuous times and real 9-to-5 style calendars with different offsets."""
    intervals = []
    for _ in range(reps):
        offset = rng.uniform(0, 600)
        rows = [[1440 * d + offset, 1440 * d + offset + 480] for d in range(60) if d % 7 < 5]
        intervals.append(np.array(rows))
    handoff = np.sort(rng.uniform(0, 1440 * 50, n))
    handoff[rng.integers(0, n, n // 10)] = handoff[0]  # ties
    return handoff, rng.exponential(25.0, n), intervals


@pytest.mark.parametrize("routing", ROUTINGS)
def test_fast_path_equals_event_path_exactly(routing, monkeypatch):
    rng = np.random.default_rng(7)
    for reps in (1, 3, 6):
        handoff, work, intervals = random_float_case(rng, 3000, reps)
        deadline = handoff + rng.uniform(0, 3000, len(handoff))
        kw = dict(rep_intervals=intervals, routing=routing, deadline_at=deadline)
        fast = serve_queue(handoff, work, **kw)
        with monkeypatch.context() as m:
            m.setattr(queue_module, "_fast_path_applies", lambda *a: False)
            slow = serve_queue(handoff, work, **kw)
        for name in ("first_touch_at", "rep", "breached", "busy_minutes"):
            np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
        assert np.isnan(fast.first_touch_at).sum() < len(handoff)


# --------------------------------------------------------------------------------------
# Agreement with Erlang C.
# --------------------------------------------------------------------------------------

# (load per rep, reps, waits t in mean-service units). The share answered within t is a
# mean of 1e6 strongly autocorrelated indicators: the queue forgets its state only after
# about rho / (1 - sqrt(rho))^2 arrivals (some 1,500 at rho = 0.95), so its standard error
# is about sqrt(p (1 - p) 2 tau / n), not sqrt(p (1 - p) / n). That error does not shrink
# with more reps: tau stays put in the queueing regime and grows like c rho once the queue
# is mostly empty (measured over 30 seeds at rho = 0.95, t = 0: 0.0014 with one rep, 0.0037
# with 5, 0.008 with 20, 0.014 with 100). So the grid uses one to four reps, and at the
# heavy loads the share answered at once (p = 1 - C, small), where p (1 - p) is small.
# Measured standard errors of every point are at most ~0.0017 (30 seeds), so 0.005 is about
# three of them or more; the test also checks that with batch means. A p near 1/2 at
# rho = 0.95 would need some 1e7 arrivals for this tolerance.
ERLANG_GRID = [
    (0.5, 1, (0.0, 1.0, 2.0)),
    (0.5, 2, (0.0, 0.5, 1.0)),
    (0.5, 4, (0.0, 0.5)),
    (0.8, 1, (0.0,)),
    (0.95, 1, (0.0,)),
]


@pytest.mark.parametrize(("rho", "reps", "waits"), ERLANG_GRID)
def test_pooled_fifo_matches_erlang_c(rho, reps, waits):
    n, warmup, service_rate = 1_000_000, 50_000, 1 / 10.0
    arrival_rate = rho * reps * service_rate
    rng = np.random.default_rng(2024)
    handoff = np.cumsum(rng.exponential(1 / arrival_rate, n + warmup))
    work = rng.exponential(1 / service_rate, n + warmup)
    always = ALWAYS_OPEN.intervals(datetime.date(2026, 1, 1), int(handoff[-1] / 1440) + 30)
    res = serve_queue(handoff, work, rep_intervals=[always] * reps, routing="pooled")
    wait = (res.first_touch_at - handoff)[warmup:]  # the first 50,000 start from empty
    for t_units in waits:
        t = t_units / service_rate
        answered = wait <= t
        share = answered.mean()
        batch_se = answered.reshape(25, -1).mean(axis=1).std(ddof=1) / 5
        expected = prob_wait_within(t, reps, arrival_rate, service_rate)
        assert batch_se < 0.0025, "this grid point is too noisy for the tolerance"
        assert abs(share - expected) < 0.005, (rho, reps, t, share, expected)


def test_round_robin_single_rep_equals_pooled():
    rng = np.random.default_rng(11)
    handoff, work, intervals = random_float_case(rng, 2000, 1)
    a = serve_queue(handoff, work, rep_intervals=intervals, routing="pooled")
    b = serve_queue(handoff, work, rep_intervals=intervals, routing="round_robin")
    np.testing.assert_array_equal(a.first_touch_at, b.first_touch_at)


# --------------------------------------------------------------------------------------
# Properties.
# --------------------------------------------------------------------------------------


def test_adding_a_rep_never_lowers_the_share_started_by_the_deadline():
    # With the same calendar for every rep, the sorted vector of free times can only go
    # down when a rep is added, so every lead starts no later (pooled FIFO).
    rng = np.random.default_rng(12)
    for _ in range(20):
        handoff, work, intervals = random_float_case(rng, 500, 1)
        work = work * rng.uniform(0.5, 4)
        deadline = handoff + rng.uniform(0, 2000, len(handoff))
        shares, starts = [], []
        for reps in range(1, 5):
            res = serve_queue(
                handoff,
                work,
                rep_intervals=intervals * reps,
                routing="pooled",
                deadline_at=deadline,
            )
            shares.append(np.mean(~res.breached))
            starts.append(np.where(np.isnan(res.first_touch_at), np.inf, res.first_touch_at))
        assert all(a <= b for a, b in itertools.pairwise(shares)), shares
        assert all(np.all(b <= a) for a, b in itertools.pairwise(starts))


@pytest.mark.parametrize("routing", ROUTINGS)
@pytest.mark.parametrize("breach", BREACHES)
def test_accounting_invariants(routing, breach):
    rng = np.random.default_rng([ROUTINGS.index(routing), BREACHES.index(breach), 99])
    n, reps = 1500, 4
    handoff, work, intervals = random_float_case(rng, n, reps)
    attempts = rng.integers(1, 6, n)
    att_minutes = rng.uniform(1, 5, n)
    deadline = handoff + rng.uniform(0, 3000, n)
    res = serve_queue(
        handoff,
        work,
        rep_intervals=intervals,
        routing=routing,
        breach=breach,
        discipline=str(rng.choice(DISCIPLINES)),
        score=rng.integers(0, 10, n),
        deadline_at=deadline,
        attempts=attempts,
        attempt_gap_minutes=[1440.0, 2880.0, 60, 10],
        attempt_minutes=att_minutes,
    )
    touched = ~np.isnan(res.first_touch_at)
    never = ~touched & ~res.recycled
    # Every lead is exactly one of touched, recycled, never touched.
    assert np.all(touched.astype(int) + res.recycled + never == 1)
    assert touched.sum() > n // 2
    assert res.recycled.any() == (breach == "recycle")
    assert res.reassigned.any() == (breach == "reassign" and routing != "pooled")
    assert np.all(res.breached[res.recycled | never])
    # A first touch starts after the handoff, inside the rep's working hours.
    t, r = res.first_touch_at[touched], res.rep[touched]
    assert np.all(t >= handoff[touched])
    for rep in range(reps):
        iv = intervals[rep]
        k = np.searchsorted(iv[:, 0], t[r == rep], side="right") - 1
        assert np.all((k >= 0) & (t[r == rep] < iv[k, 1]))
    # Follow-ups: only for touched leads, at most attempts - 1 each, after the first touch.
    counts = np.bincount(res.attempt_lead, minlength=n)
    assert np.all(counts <= attempts - 1)
    assert np.all(counts[~touched] == 0)
    assert np.all(res.attempt_at > res.first_touch_at[res.attempt_lead])
    # Busy minutes are the work done: first touches and follow-ups, per rep (the
    # calendars run 60 days, well past the last handoff, so every started job finishes).
    done = np.bincount(r, weights=work[touched], minlength=reps)
    done += np.bincount(res.rep[res.attempt_lead], weights=att_minutes[res.attempt_lead], minlength=reps)
    np.testing.assert_allclose(res.busy_minutes, done, rtol=1e-12)


def test_no_deadline_means_breached_only_when_never_touched():
    rng = np.random.default_rng(13)
    handoff, work, intervals = random_float_case(rng, 200, 2)
    handoff[-5:] = 1e9  # after the last close
    res = serve_queue(handoff, work, rep_intervals=intervals, routing="round_robin")
    np.testing.assert_array_equal(res.breached, np.isnan(res.first_touch_at))
    assert res.breached[-5:].all()


def test_results_come_back_in_input_order():
    rng = np.random.default_rng(14)
    _, work, intervals = random_float_case(rng, 500, 3)
    handoff = rng.uniform(0, 1440 * 50, 500)  # no ties, so the ranking is unambiguous
    perm = rng.permutation(len(handoff))
    inv = np.argsort(perm)
    kw = dict(
        rep_intervals=intervals,
        attempts=np.full(500, 2),
        attempt_gap_minutes=[30.0],
        attempt_minutes=5.0,
    )
    for routing in ROUTINGS:
        a = serve_queue(handoff, work, routing=routing, **kw)
        b = serve_queue(handoff[perm], work[perm], routing=routing, **kw)
        np.testing.assert_array_equal(b.first_touch_at[inv], a.first_touch_at)
        np.testing.assert_array_equal(b.rep[inv], a.rep)
        assert sorted(zip(perm[b.attempt_lead], b.attempt_at, strict=True)) == sorted(
            zip(a.attempt_lead, a.attempt_at, strict=True)
        )


# --------------------------------------------------------------------------------------
# Validation.
# --------------------------------------------------------------------------------------

IV = [np.array([[0.0, 100.0]])]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(handoff_at=[1.0, np.nan]), "handoff_at must not contain nan"),
        (dict(handoff_at=[-1.0, 2.0]), "handoff_at must be >= 0"),
        (dict(work_minutes=[1.0]), r"work_minutes must have the length of handoff_at \(2\)"),
        (dict(work_minutes=[1.0, 0.0]), "work_minutes must be > 0"),
        (dict(rep_intervals=[]), "rep_intervals must hold at least one rep"),
        (dict(rep_intervals=[np.array([[5.0, 1.0]])]), r"rep_intervals\[0\] must have close"),
        (dict(rep_intervals=np.array([[0.0, 1.0]])), "rep_intervals must be a sequence"),
        (dict(routing="skill"), "routing must be one of"),
        (dict(discipline="random"), "discipline must be one of"),
        (dict(breach="drop"), "breach must be one of"),
        (dict(discipline="highest_score"), "score is required"),
        (dict(breach="recycle"), "deadline_at is required for breach='recycle'"),
        (dict(deadline_at=[1.0, np.nan]), "deadline_at must not contain nan"),
        (dict(attempts=[1, 0]), "attempts must be >= 1"),
        (dict(attempts=[1.5, 1]), "attempts must be integers"),
        (dict(attempts=[3, 1]), "attempt_gap_minutes is required"),
        (dict(attempts=[3, 1], attempt_gap_minutes=[1.0]), r"at least max\(attempts\) - 1"),
        (dict(attempts=[2, 1], attempt_gap_minutes=[-1.0]), "attempt_gap_minutes must be >= 0"),
        (dict(attempts=[2, 1], attempt_gap_minutes=[1.0]), "attempt_minutes is required"),
        (
            dict(attempts=[2, 1], attempt_gap_minutes=[1.0], attempt_minutes=[1.0, -1.0]),
            "attempt_minutes must be > 0",
        ),
    ],
)
def test_validation_messages(kwargs, match):
    args = dict(handoff_at=[1.0, 2.0], work_minutes=[1.0, 1.0], rep_intervals=IV) | kwargs
    with pytest.raises(ValueError, match=match):
        serve_queue(args.pop("handoff_at"), args.pop("work_minutes"), **args)
