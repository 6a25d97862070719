"""Benchmark the queue engine against a plain heapq loop and a SimPy model.

Run with ``python bench/bench_queue.py`` (needs simpy), or with the other benchmarks through
``python -m bench queue`` (``rows()``). Three implementations serve the same
pooled FIFO queue (5 reps on a New York 9-to-5 weekday calendar, a year of arrivals at
about 80% of working capacity):

- ``serve_queue``: the numba engine (timed after a warm-up call, best of three), by its
  one-pass FIFO recursion and, forced, by its general event-driven path;
- a plain Python loop with ``heapq`` over the reps' next free instants and ``bisect`` over
  the calendar; it must give bit-identical waits;
- a SimPy model: one process per rep taking leads from a ``Store`` and working through the
  calendar (pausing at each close); run on fewer leads, waits equal to rounding.

Then a default-like year: 10,000 MQLs, 6 reps with their own shrunk calendars, round robin,
six contact attempts spread over ten business days, an SLA deadline of 24 business hours
with escalation (the event-driven path).
"""

from __future__ import annotations

import bisect
import datetime
import heapq
import math
import time

import numpy as np

from simulate.calendar import WorkingCalendar, add_working_minutes, shrink
from simulate.queue import serve_queue

START = datetime.date(2026, 1, 1)


def best_time(fn, repeat=3):
    """Best wall time of ``repeat`` calls, and the last result."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def heapq_starts(handoff, work, intervals, reps):
    """Pooled FIFO in plain Python: a heap of (next free instant, rep)."""
    opens = intervals[:, 0].tolist()
    closes = intervals[:, 1].tolist()
    cum = [0.0]
    for o, c in zip(opens, closes, strict=True):
        cum.append(cum[-1] + (c - o))
    total = cum.pop()
    free_w = [0.0] * reps  # working time at which each rep's last job ends
    heap = [(opens[0], r) for r in range(reps)]
    starts = np.full(len(handoff), np.nan)
    for k, (t, w) in enumerate(zip(handoff.tolist(), work.tolist(), strict=True)):
        nf, r = heap[0]
        if t <= nf:
            s, sw = nf, free_w[r]
        else:  # the rep is free before t: next open instant, and working time W(t)
            p = bisect.bisect_right(closes, t)
            if p == len(closes):
                continue
            if opens[p] <= t:
                s, sw = t, cum[p] + (t - opens[p])
            else:
                s, sw = opens[p], cum[p]
        if s == math.inf:
            continue
        starts[k] = s
        free_w[r] = f = sw + w
        if f >= total:
            nxt = math.inf
        else:
            i = bisect.bisect_right(cum, f) - 1
            nxt = opens[i] + (f - cum[i])
        heapq.heapreplace(heap, (nxt, r))
    return starts


def simpy_starts(handoff, work, intervals, reps):
    """Pooled FIFO in SimPy: reps take leads from a Store and work through the calendar."""
    import simpy

    opens = intervals[:, 0].tolist()
    closes = intervals[:, 1].tolist()
    env = simpy.Environment()
    store = simpy.Store(env)
    starts = np.full(len(handoff), np.nan)

    def source():
        for i, t in enumerate(handoff.tolist()):
            yield env.timeout(t - env.now)
            store.put(i)

    def rep():
        while True:
            i = yield store.get()
            left = work[i]
            started = False
            while left > 0:
                k = bisect.bisect_right(closes, env.now)
                if k == len(closes):
                    return
                if opens[k] > env.now:
                    yield env.timeout(opens[k] - env.now)
                    continue
                if not started:
                    starts[i] = env.now
                    started = True
                step = min(left, closes[k] - env.now)
                yield env.timeout(step)
                left -= step

    env.process(source())
    for _ in range(reps):
        env.process(rep())
    env.run()
    return starts


def pooled_case(n, reps, rng):
    days = 365
    intervals = WorkingCalendar().intervals(START, days + 30)
    capacity = reps * (intervals[:, 1] - intervals[:, 0]).clip(0).sum() * days / (days + 30)
    handoff = np.sort(rng.uniform(0, days * 1440.0, n))
    work = rng.exponential(0.8 * capacity / n, n)
    return handoff, work, intervals


def bench_pooled(n=200_000, n_simpy=20_000, reps=5, seed=1):
    rng = np.random.default_rng(seed)
    handoff, work, intervals = pooled_case(n, reps, rng)
    cals = [intervals] * reps

    serve_queue(handoff[:100], work[:100], rep_intervals=cals, routing="pooled")  # compile
    t_engine, res = best_time(lambda: serve_queue(handoff, work, rep_intervals=cals, routing="pooled"))
    # The same queue through the event-driven path: escalation with no finite deadline
    # changes nothing but rules out the one-pass recursion.
    never = np.full(n, np.inf)
    t_event, res_event = best_time(
        lambda: serve_queue(
            handoff,
            work,
            rep_intervals=cals,
            routing="pooled",
            deadline_at=never,
            breach="escalate",
        )
    )
    assert np.array_equal(res_event.first_touch_at, res.first_touch_at, equal_nan=True)
    t_heapq, starts = best_time(lambda: heapq_starts(handoff, work, intervals, reps))
    assert np.array_equal(starts, res.first_touch_at, equal_nan=True), "heapq waits differ"

    # SimPy on the first n_simpy leads (a shorter stretch of the same year).
    h, w = handoff[:n_simpy], work[:n_simpy]
    small = serve_queue(h, w, rep_intervals=cals, routing="pooled")
    t_simpy, starts_simpy = best_time(lambda: simpy_starts(h, w, intervals, reps))
    np.testing.assert_allclose(starts_simpy, small.first_touch_at, rtol=0, atol=1e-6)

    rows = [
        ("serve_queue (numba)", n / t_engine),
        ("  event-driven path", n / t_event),
        ("heapq loop (Python)", n / t_heapq),
        ("SimPy model", n_simpy / t_simpy),
    ]
    print(f"Pooled FIFO, {reps} reps, 9-to-5 weekdays, a year: n = {n:,} (SimPy n = {n_simpy:,})")
    utilisation = res.busy_minutes.sum() / (reps * (intervals[:, 1] - intervals[:, 0]).sum())
    wait = np.nanmean(res.first_touch_at - handoff)
    print(f"mean wait {wait:.0f} min, utilisation {utilisation:.2f}")
    print(f"{'engine':<22}{'leads/s':>14}{'engine is x faster':>20}")
    for name, rate in rows:
        print(f"{name:<22}{rate:>14,.0f}{rows[0][1] / rate:>20.1f}")
    return rows


def bench_default_year(n=10_000, reps=6, seed=2):
    rng = np.random.default_rng(seed)
    zones = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"]
    cals = [shrink(WorkingCalendar(timezone=zones[r % 4]).intervals(START, 400), 0.2, rng=rng) for r in range(reps)]
    sla = WorkingCalendar().intervals(START, 400)
    handoff = rng.uniform(0, 365 * 1440.0, n)
    work = rng.gamma(4.0, 5.0, n)  # about 20 minutes per first touch
    deadline = add_working_minutes(sla, handoff, 24 * 60.0)
    day = 1440.0
    kw = dict(
        rep_intervals=cals,
        routing="round_robin",
        deadline_at=deadline,
        breach="escalate",
        attempts=np.full(n, 6),
        attempt_gap_minutes=np.array([1, 1, 2, 3, 3]) * day,  # six attempts in ten days
        attempt_minutes=5.0,
    )
    serve_queue(
        handoff[:100],
        work[:100],
        **{**kw, "deadline_at": deadline[:100], "attempts": kw["attempts"][:100]},
    )
    t_run, res = best_time(lambda: serve_queue(handoff, work, **kw))
    met = np.mean(~res.breached)
    print(
        f"\nDefault-like year: {n:,} MQLs, {reps} reps, round robin, 6 attempts, SLA 24 "
        f"business hours, escalate\n{t_run * 1e3:.1f} ms ({n / t_run:,.0f} leads/s, "
        f"{len(res.attempt_at):,} follow-ups), SLA met {met:.1%}"
    )
    return t_run


def rows() -> list:
    """Figures for ``python -m bench`` (one table for all benchmark modules)."""
    try:
        from bench._table import Row
    except ImportError:  # run as a script from inside bench/
        from _table import Row

    n, n_simpy = 200_000, 20_000
    rates = dict(bench_pooled(n=n, n_simpy=n_simpy))
    engine = rates["serve_queue (numba)"]
    heap, simpy_rate = rates["heapq loop (Python)"], rates["SimPy model"]
    t_year = bench_default_year()
    return [
        Row(
            "queue: pooled FIFO, 5 reps, calendars",
            f"{n:,} leads",
            f"{engine:,.0f} leads/s",
            ">= 30x a heapq loop",
            f"heapq {heap:,.0f} leads/s",
            f"{engine / heap:,.1f}x",
            met=engine / heap >= 30,
        ),
        Row(
            "queue: same, vs SimPy",
            f"{n_simpy:,} leads (SimPy)",
            f"{engine:,.0f} leads/s",
            ">= 500x SimPy",
            f"SimPy {simpy_rate:,.0f} leads/s",
            f"{engine / simpy_rate:,.0f}x",
            met=engine / simpy_rate >= 500,
        ),
        Row(
            "queue: event-driven path, same queue",
            f"{n:,} leads",
            f"{rates['  event-driven path']:,.0f} leads/s",
            "",
            f"heapq {heap:,.0f} leads/s",
            f"{rates['  event-driven path'] / heap:,.1f}x",
        ),
        Row("queue: default-like year, follow-ups", "10,000 MQLs, 6 reps, 6 attempts", f"{t_year * 1e3:.1f} ms", ""),
    ]


def main() -> None:
    bench_pooled()
    bench_default_year()


if __name__ == "__main__":
    main()
