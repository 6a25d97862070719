"""Scenario sweeps: 200 scenario-seed pairs of the default year on 1 and 2 workers.

Targets (issue 7): 2 workers at least 1.7 times faster than 1; identical summaries from a
serial run, a 2-process pool and a local Dask cluster.
"""

from __future__ import annotations

import concurrent.futures as cf
import time

import pandas as pd

import simulate
from bench._table import Row, print_table
from simulate.sweeps import SerialExecutor, grid, sweep


def rows(pairs: int = 200) -> list[Row]:
    scenarios = grid(
        simulate.Scenario(), {"team.reps": [3, 4, 5, 6], "rules.mql_threshold": [50.0, 55.0, 60.0, 65.0, 70.0]}
    )
    seeds = pairs // len(scenarios)
    simulate.run(simulate.Scenario(months=1))  # compile the kernels in this process
    t0 = time.perf_counter()
    serial = sweep(scenarios, seeds=seeds, executor=SerialExecutor(), progress=False)
    t_serial = time.perf_counter() - t0
    with cf.ProcessPoolExecutor(max_workers=1) as pool:
        pool.submit(simulate.run, simulate.Scenario(months=1)).result()  # warm the worker
        t0 = time.perf_counter()
        one = sweep(scenarios, seeds=seeds, executor=pool, progress=False)
        t_one = time.perf_counter() - t0
    with cf.ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(simulate.run, [simulate.Scenario(months=1)] * 2))
        t0 = time.perf_counter()
        two = sweep(scenarios, seeds=seeds, executor=pool, progress=False)
        t_two = time.perf_counter() - t0
    same_pool = serial.summary.equals(two.summary) and serial.summary.equals(one.summary)
    try:
        from distributed import Client, LocalCluster

        with (
            LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            t0 = time.perf_counter()
            dask = sweep(scenarios, seeds=seeds, executor=client.get_executor(), progress=False)
            t_dask = time.perf_counter() - t0
        same_dask = serial.summary.equals(dask.summary)
        dask_cell = f"{t_dask:.1f} s"
    except ImportError:
        same_dask, dask_cell = None, "dask not installed"
    n = len(serial.summary)
    return [
        Row(
            "sweep, 2 workers vs 1",
            f"{n} scenario-seed pairs",
            f"{t_one / t_two:.2f}x faster",
            ">= 1.7x",
            f"1 worker {t_one:.1f} s, 2 workers {t_two:.1f} s",
            f"{t_one / t_two:.2f}",
            met=t_one / t_two >= 1.7,
        ),
        Row(
            "identical summaries: serial, 2-process pool, Dask",
            f"{n} pairs",
            f"pool {'same' if same_pool else 'DIFFERENT'}, dask {'same' if same_dask else same_dask}",
            "identical",
            f"serial {t_serial:.1f} s, dask {dask_cell}",
            "",
            met=bool(same_pool and same_dask),
        ),
    ]


def main() -> None:
    print_table(rows())


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main()
