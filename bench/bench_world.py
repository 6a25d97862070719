"""The simulated world: a default year end to end, and population generation at scale.

Targets (issue 2): ``simulate.run`` on the default scenario under 1 s; population with
events at least 1 million leads per second per core; peak memory for a million leads with
events under 2 GB. The peer is a plain per-lead Python loop drawing the same event model.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time

import numpy as np

import simulate
from bench._table import Row, print_table
from simulate.behaviour import simulate_events
from simulate.leads import simulate_leads
from simulate.table import EVENT_KINDS


def _best_of(fn, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def million_lead_scenario(n_per_month: float = 1_000_000 / 12) -> simulate.Scenario:
    s = simulate.Scenario()
    return s.replace(arrivals=dataclasses.replace(s.arrivals, leads_per_month=n_per_month, campaigns=()))


def _generate(scenario, seed=0):
    leads = simulate_leads(scenario, rng=seed)
    events = simulate_events(scenario, leads, rng=seed + 1)
    return leads, events


def python_loop_events(scenario: simulate.Scenario, leads, rng) -> int:
    """The same journey model drawn one lead at a time in plain Python (the peer)."""
    b = scenario.behaviour
    rates = [b.rates[k] for k in EVENT_KINDS]
    sens = [b.intent_sensitivity.get(k, 0.0) for k in EVENT_KINDS]
    total = 0
    for i in range(leads.n):
        u = leads.intent[i]
        active = min(rng.exponential(b.mean_active_days * np.exp(b.active_days_intent_slope * u)), b.max_active_days)
        to_c = rng.exponential(b.days_to_consideration)
        to_d = to_c + rng.exponential(b.days_to_decision)
        c = (
            to_c
            if (rng.random() < 1 / (1 + np.exp(-(b.consideration_logit + b.consideration_slope * u))) and to_c < active)
            else active
        )
        d = (
            to_d
            if (
                c < active
                and rng.random() < 1 / (1 + np.exp(-(b.decision_logit + b.decision_slope * u)))
                and to_d < active
            )
            else active
        )
        dur = (c, d - c, active - d)
        starts = (0.0, c, d)
        times = []
        for k in range(len(EVENT_KINDS)):
            tilt = np.exp(sens[k] * u)
            for s in range(3):
                m = rates[k][s] * tilt * dur[s]
                for _ in range(rng.poisson(m)):
                    times.append((leads.created_min[i] + (starts[s] + rng.random() * dur[s]) * 1440, k))
        times.sort()
        total += len(times)
    return total


def _peak_memory_child(n_per_month: float) -> dict:
    code = (
        "import resource, time, json, bench.bench_world as b\n"
        f"s = b.million_lead_scenario({n_per_month!r})\n"
        "t = time.perf_counter(); leads, events = b._generate(s); dt = time.perf_counter() - t\n"
        "print(json.dumps({'leads': int(leads.n), 'events': int(events.t_min.size), 'seconds': dt,"
        " 'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _sales_seconds(seed: int = 1) -> float:
    """Seconds spent in the team, queue and funnel of a default year (after the population)."""
    from simulate.funnel import simulate_sales
    from simulate.scoring import score_stream
    from simulate.truth import draw_truth

    s = simulate.Scenario()
    pop, ev, tr, sales_seed = np.random.SeedSequence(seed).spawn(4)
    leads = simulate_leads(s, rng=np.random.default_rng(pop))
    events = simulate_events(s, leads, rng=np.random.default_rng(ev))
    truth = draw_truth(s, leads, events.counts, rng=np.random.default_rng(tr))
    table = simulate.run(s, seed=seed).leads
    fit = s.rules.fit_points(table)
    mql, _, mql_score = score_stream(
        s.rules, fit, leads.created_min, events.offsets, events.t_min, events.kind, s.days * 1440.0
    )
    return _best_of(
        lambda: simulate_sales(s, leads, events, truth, fit, mql, mql_score, rng=np.random.default_rng(sales_seed)),
        repeat=5,
    )


def rows() -> list[Row]:
    simulate.run(simulate.Scenario(months=1), seed=0)  # compile the kernels once
    t_run = _best_of(lambda: simulate.run(seed=1), repeat=5)
    default = simulate.run(seed=1)
    t_sales = _sales_seconds()

    big = million_lead_scenario()
    _generate(million_lead_scenario(10_000), seed=0)
    t_gen = _best_of(lambda: _generate(big), repeat=3)
    leads, events = _generate(big)
    n, e = leads.n, events.t_min.size
    del leads, events

    small = million_lead_scenario(20_000 / 12)
    small_leads = simulate_leads(small, rng=0)
    t0 = time.perf_counter()
    python_loop_events(small, small_leads, np.random.default_rng(1))
    t_loop = time.perf_counter() - t0
    loop_rate = small_leads.n / t_loop
    child = _peak_memory_child(1_000_000 / 12)

    return [
        Row("simulate.run, default year", f"{len(default.leads):,} leads", f"{t_run:.3f} s", "< 1 s", met=t_run < 1),
        Row(
            "team, queue and funnel of that year",
            f"{default.leads['mql_at'].notna().sum():,} MQLs",
            f"{t_sales:.3f} s",
            "< 0.5 s",
            met=t_sales < 0.5,
        ),
        Row(
            "population + events",
            f"{n:,} leads, {e:,} events",
            f"{n / t_gen:,.0f} leads/s",
            ">= 2,000,000 leads/s per core",
            f"python loop {loop_rate:,.0f} leads/s",
            f"{n / t_gen / loop_rate:,.0f}x",
            met=n / t_gen >= 2e6,
        ),
        Row(
            "peak memory, 1M leads with events",
            f"{child['leads']:,} leads",
            f"{child['peak_mb']:,.0f} MB",
            "< 1,024 MB",
            met=child["peak_mb"] < 1024,
        ),
    ]


def main() -> None:
    print_table(rows())


if __name__ == "__main__":
    main()
