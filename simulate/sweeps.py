"""Many scenarios and seeds on any ``concurrent.futures.Executor``.

``sweep`` runs every (scenario, seed) pair as one task and returns tidy tables: one row per
task with the year's figures and the scenario parameters that vary as columns. Each task's
numbers depend only on its scenario and its seed, never on which worker ran it or how many
there were, so a serial run, a local process pool and a Dask cluster give the same table.

To use a Dask cluster, pass its executor::

    from dask.distributed import Client
    client = Client("tcp://scheduler:8786")        # or Client() for a local cluster
    result = simulate.sweep(scenarios, seeds=20, executor=client.get_executor())

The package must be installed on the workers (``pip install leadfunnel`` there too).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import itertools
import os
import traceback
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from simulate import seeding
from simulate.scenario import Scenario
from simulate.simulation import RunResult, run
from simulate.spec import to_dict


class SerialExecutor(cf.Executor):
    """Runs each task at once in this process (for debugging and small sweeps)."""

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        """Run ``fn(*args, **kwargs)`` now, in this process; return its finished future."""
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


@dataclass(frozen=True, slots=True, eq=False)
class SweepResult:
    """What ``sweep`` returns.

    Attributes
    ----------
    summary : one row per finished task: ``scenario`` (its position or name), ``seed``, the
        varying scenario parameters (dotted names such as ``team.reps``), and the year's
        figures (see ``run_figures``).
    monthly : the monthly summary of every finished task, with ``scenario`` and ``seed``.
    failures : one row per failed task: ``scenario``, ``seed``, the parameters, ``error``.
    runs : the full ``RunResult`` per ``(scenario, seed)`` when asked with ``keep_runs``.
    """

    summary: pd.DataFrame
    monthly: pd.DataFrame
    failures: pd.DataFrame
    runs: dict[tuple[Any, int], RunResult] = field(default_factory=dict)


def run_figures(result: RunResult) -> dict[str, float]:
    """The year's headline figures of one run (the columns of ``SweepResult.summary``)."""
    leads, s = result.leads, result.summary
    mql = leads["mql_at"].notna()
    won = leads["customer_at"].notna()
    response = (leads["first_touch_at"] - leads["mql_at"]).dt.total_seconds() / 3600.0
    return {
        "leads": float(len(leads)),
        "mqls": float(mql.sum()),
        "mqls_per_month": float(mql.sum()) / result.scenario.months,
        "returned_mqls": float(leads["returned_at"].notna().sum()),
        "sla_compliance": float(leads.loc[mql, "sla_met"].astype("Float64").mean()),
        "median_response_hours": float(response.median()),
        "p90_response_hours": float(response.quantile(0.9)),
        "rep_utilisation": float(s["rep_utilisation"].mean()),
        "max_backlog": float(s["backlog_at_month_end"].max()),
        "sqls": float(leads["sql_at"].notna().sum()),
        "opportunities": float(leads["opportunity_at"].notna().sum()),
        "wins": float(won.sum()),
        "revenue": float(leads.loc[won, "amount"].sum()),
    }


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        elif isinstance(value, list):
            out[name] = repr(value)
        else:
            out[name] = value
    return out


def scenario_parameters(scenarios: Sequence[Scenario]) -> pd.DataFrame:
    """The scenario fields (dotted names) whose values differ between ``scenarios``."""
    flat = [_flatten(to_dict(s)) for s in scenarios]
    keys = sorted(set().union(*flat)) if flat else []
    table = pd.DataFrame([{k: f.get(k) for k in keys} for f in flat])
    if len(scenarios) <= 1:
        return table[[c for c in ("name",) if c in table]]
    varying = [k for k in keys if table[k].astype(str).nunique(dropna=False) > 1]
    return table[varying]


def replace_path(scenario: Scenario, path: str, value: Any, *, _full: str | None = None) -> Scenario:
    """A copy of ``scenario`` with the field at dotted ``path`` (``"team.reps"``) set."""
    full = _full or path
    head, _, rest = path.partition(".")
    if not dataclasses.is_dataclass(scenario) or head not in {f.name for f in dataclasses.fields(scenario)}:
        raise ValueError(f"{full!r}: {type(scenario).__name__} has no field {head!r}")
    if isinstance(scenario, Scenario) and path == "rules.mql_threshold":
        return dataclasses.replace(scenario, rules=scenario.rules.replace_threshold(value))
    if not rest:
        return dataclasses.replace(scenario, **{head: value})
    inner = replace_path(getattr(scenario, head), rest, value, _full=full)
    return dataclasses.replace(scenario, **{head: inner})


def grid(base: Scenario, axes: Mapping[str, Iterable[Any]]) -> list[Scenario]:
    """Every combination of the values in ``axes`` (dotted field paths) applied to ``base``.

    Examples
    --------
    >>> scenarios = grid(Scenario(), {"team.reps": [3, 4], "sla.hours": [4.0, 8.0]})
    >>> [(s.team.reps, s.sla.hours) for s in scenarios]
    [(3, 4.0), (3, 8.0), (4, 4.0), (4, 8.0)]
    """
    names = list(axes)
    out = []
    for values in itertools.product(*(list(axes[n]) for n in names)):
        s = base
        for name, value in zip(names, values):
            s = replace_path(s, name, value)
        out.append(s)
    return out


def _task(scenario: Scenario, seed: int, keep_run: bool):
    result = run(scenario, seed=seed)
    monthly = result.summary.reset_index()
    monthly["month"] = monthly["month"].astype(str)
    return run_figures(result), monthly, (result if keep_run else None)


def sweep(
    scenarios: Scenario | Sequence[Scenario] | Mapping[str, Scenario],
    seeds: int | Sequence[int] = 1,
    *,
    executor: cf.Executor | None = None,
    max_workers: int | None = None,
    progress: bool | str = True,
    keep_runs: bool = False,
    seed: int = 0,
) -> SweepResult:
    """Run every scenario with every seed and collect tidy tables.

    Parameters
    ----------
    scenarios : one scenario, a list (named by position) or a dict of named scenarios.
    seeds : a list of seeds, or a count ``n``: the seeds are then the children of
        ``seed`` (``simulate.seeding.child_seeds``). Every scenario gets the same seeds, so scenarios are
        compared on the same random leads (common random numbers).
    executor : any ``concurrent.futures.Executor`` (a Dask ``client.get_executor()`` for a
        cluster, ``SerialExecutor()`` for in-process); default a local process pool with
        ``max_workers`` processes (all cores), created and shut down here.
    progress : show a progress bar (a notebook widget where one can be drawn); ``"text"``
        for a plain-text bar, which also shows in a notebook's HTML export.
    keep_runs : also keep every full ``RunResult`` (memory grows with the sweep; by default
        only summaries are kept, so a sweep of thousands of tasks stays small).

    A task that fails (a bad scenario, a lost worker) becomes a row of ``failures`` with its
    parameters and error; the other tasks' results are kept. A lost worker in the default
    pool is retried once in a fresh pool.
    """
    if progress == "text":
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm

    if isinstance(scenarios, Scenario):
        scenarios = [scenarios]
    if isinstance(scenarios, Mapping):
        labels, items = list(scenarios), list(scenarios.values())
    else:
        items = list(scenarios)
        labels = list(range(len(items)))
    if not items:
        raise ValueError("scenarios must name at least one scenario")
    for label, s in zip(labels, items):
        if not isinstance(s, Scenario):
            raise TypeError(f"scenario {label!r} is a {type(s).__name__}, not a Scenario")
    seed_list = seeding.seed_list(seeds, seed=seed)
    params = scenario_parameters(items)
    tasks = [(i, seed) for i in range(len(items)) for seed in seed_list]

    figures: dict[tuple[int, int], dict] = {}
    monthly: dict[tuple[int, int], pd.DataFrame] = {}
    runs: dict[tuple[Any, int], RunResult] = {}
    errors: dict[tuple[int, int], str] = {}
    # progress=False silences the bar; otherwise tqdm's own settings (TQDM_DISABLE) apply
    bar = tqdm(total=len(tasks), desc="sweep", unit="run", **({} if progress else {"disable": True}))

    def collect(task, future) -> None:
        try:
            fig, month, result = future.result()
        except BrokenProcessPool as exc:
            errors[task] = f"worker lost: {exc}"
        except Exception as exc:  # noqa: BLE001 - reported per task, the sweep goes on
            errors[task] = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        else:
            figures[task] = fig
            monthly[task] = month
            if result is not None:
                runs[(labels[task[0]], task[1])] = result
            errors.pop(task, None)
        bar.update(1)

    def execute(pool: cf.Executor, todo: list[tuple[int, int]]) -> None:
        limit = 4 * (getattr(pool, "_max_workers", None) or os.cpu_count() or 1)
        pending: dict[cf.Future, tuple[int, int]] = {}
        queue = iter(todo)
        for task in itertools.islice(queue, limit):
            pending[pool.submit(_task, items[task[0]], task[1], keep_runs)] = task
        while pending:
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for future in done:
                collect(pending.pop(future), future)
                for task in itertools.islice(queue, 1):
                    try:
                        pending[pool.submit(_task, items[task[0]], task[1], keep_runs)] = task
                    except (BrokenProcessPool, RuntimeError) as exc:
                        errors[task] = f"worker lost: {exc}"
                        bar.update(1)

    try:
        if executor is not None:
            execute(executor, tasks)
        else:
            with cf.ProcessPoolExecutor(max_workers=max_workers) as pool:
                execute(pool, tasks)
            lost = [t for t, e in errors.items() if e.startswith("worker lost")]
            if lost:
                bar.update(-len(lost))
                with cf.ProcessPoolExecutor(max_workers=max_workers) as pool:
                    execute(pool, lost)
    finally:
        bar.close()

    def rows(done: Iterable[tuple[int, int]]) -> list[dict]:
        out = []
        for i, seed in sorted(done):
            out.append({"scenario": labels[i], "seed": seed, **params.iloc[i].to_dict()})
        return out

    ok = sorted(figures)
    summary = pd.DataFrame([{**r, **figures[t]} for r, t in zip(rows(ok), ok)])
    month_parts = []
    for t in ok:
        part = monthly[t].copy()
        part.insert(0, "seed", t[1])
        part.insert(0, "scenario", labels[t[0]])
        month_parts.append(part)
    failed = sorted(errors)
    failures = pd.DataFrame(
        [{**r, "error": errors[t]} for r, t in zip(rows(failed), failed)],
        columns=["scenario", "seed", *params.columns, "error"],
    )
    return SweepResult(
        summary=summary,
        monthly=pd.concat(month_parts, ignore_index=True) if month_parts else pd.DataFrame(),
        failures=failures,
        runs=runs,
    )
