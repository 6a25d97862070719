"""Cold start: importing the packages, and the first run of a job against a warm one.

Targets (the cold-start and speed issues): ``import calibrate`` under 0.5 s in a fresh process;
the first run of a small end-to-end job (simulate a default year, recommend a threshold for it)
after the install's warm-up under 30 s and not dominated by compilation (numba compilation
under half of that run). Every figure is
measured in fresh processes: imports as the median of several; the job with
``NUMBA_CACHE_DIR`` pointed to an empty folder (cold), then to the same, now filled, folder
(warm), and to a folder filled only by ``python -m simulate warm-up`` (what ``make`` runs
after ``pip install``, so what the first ``make run`` finds). The compile seconds are
numba's own "numba:compile" events (outermost only): loading a kernel from the cache is not
compilation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from bench._table import Row, print_table

_IMPORT = "import time\nt = time.perf_counter()\n{stmt}\nprint(time.perf_counter() - t)\n"

# The job: imports included, as a user's first command pays them.
_JOB = """
import json, time
t0 = time.perf_counter()
from numba.core import event


class Compile(event.Listener):
    depth = 0
    seconds = 0.0
    count = 0

    def on_start(self, ev):
        if self.depth == 0:
            self.t = time.perf_counter()
        self.depth += 1

    def on_end(self, ev):
        self.depth -= 1
        if self.depth == 0:
            self.count += 1
            self.seconds += time.perf_counter() - self.t


listener = Compile()
event.register("numba:compile", listener)
import warnings

warnings.simplefilter("ignore")
import calibrate
import simulate

s = simulate.Scenario()
t1 = time.perf_counter()
result = simulate.run(s, seed=1)
t2 = time.perf_counter()
rec = calibrate.recommend(result, calibrate.SalesCapacity.from_scenario(s), seed=0)
t3 = time.perf_counter()
print(json.dumps({"total": t3 - t0, "simulate": t2 - t1, "recommend": t3 - t2, "compile": listener.seconds,
                  "compiles": listener.count, "leads": len(result.leads), "threshold": float(rec.threshold)}))
"""


def _python(code: str, env: dict | None = None, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )


def import_seconds(stmt: str, repeat: int = 5) -> float:
    """Median seconds of ``stmt`` in fresh interpreters (the interpreter's own start excluded)."""
    times = [float(_python(_IMPORT.format(stmt=stmt)).stdout.split()[-1]) for _ in range(repeat)]
    return float(np.median(times))


def import_contributors(stmt: str, top: int = 4) -> list[tuple[str, float]]:
    """Top-level packages by cumulative import time under ``python -X importtime``."""
    err = _python(stmt, args=("-X", "importtime")).stderr
    outer: dict[str, float] = {}
    stack: list[tuple[int, str]] = []  # (depth, root package) of the enclosing imports
    rows = []
    for line in err.splitlines():
        if not line.startswith("import time:") or "|" not in line or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        rows.append((depth, name.strip(), int(cumulative) / 1e6))
    # a module's line comes after those of the modules it imported: walk backwards so that
    # every module is seen before its imports
    for depth, name, seconds in reversed(rows):
        while stack and stack[-1][0] >= depth:
            stack.pop()
        root = name.split(".")[0]
        if all(r != root for _, r in stack):  # the outermost import of this package
            outer[root] = outer.get(root, 0.0) + seconds
        stack.append((depth, root))
    mine = ("calibrate", "simulate")  # they hold everything else
    ranked = sorted(((s, r) for r, s in outer.items() if r not in mine and not r.startswith("_")), reverse=True)
    return [(r, s) for s, r in ranked[:top]]


def run_job(cache_dir: str) -> dict:
    out = _python(_JOB, env={"NUMBA_CACHE_DIR": cache_dir})
    return json.loads(out.stdout.strip().splitlines()[-1])


def warm_up(cache_dir: str) -> tuple[float, str]:
    """Seconds of ``python -m simulate warm-up`` (interpreter included) and its summary line."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "simulate", "warm-up"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "NUMBA_CACHE_DIR": cache_dir},
    )
    return time.perf_counter() - t0, out.stdout.strip().splitlines()[-1]


def rows() -> list[Row]:
    t_sim = import_seconds("import simulate")
    t_cal = import_seconds("import calibrate")
    t_rec = import_seconds("from calibrate import recommend")
    heavy = import_contributors("from calibrate import recommend")
    out = [
        Row("import simulate, fresh process", "median of 5", f"{t_sim:.3f} s", "< 1 s", met=t_sim < 1),
        Row("import calibrate, fresh process", "median of 5", f"{t_cal:.3f} s", "< 0.5 s", met=t_cal < 0.5),
        Row("from calibrate import recommend (first use)", "median of 5", f"{t_rec:.3f} s", ""),
    ]
    out += [Row(f"  of which (-X importtime): {name}", "", f"{s:.3f} s", "") for name, s in heavy]

    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        cold = run_job(cache)
        warm = [run_job(cache) for _ in range(2)]
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache:
        t_warm_up, said = warm_up(cache)
        after = run_job(cache)
    t_warm = float(np.median([w["total"] for w in warm]))
    share = cold["compile"] / cold["total"]
    share_after = after["compile"] / after["total"]
    size = f"default year, {cold['leads']:,} leads"
    n_warm_up = said.split("; ")[-1].split(" kernels")[0] if "kernels" in said else "?"
    return out + [
        Row(
            "simulate + recommend, first run, empty numba cache",
            size,
            f"{cold['total']:.1f} s",
            "not dominated by compilation",
            f"warm run {t_warm:.1f} s",
            f"{cold['total'] / t_warm:.1f}x",
            met=share < 0.5,
        ),
        Row(
            "  of which: numba compilation",
            f"{cold['compiles']} kernels",
            f"{cold['compile']:.1f} s ({share:.0%})",
            "< 50% of the run",
            met=share < 0.5,
        ),
        Row("python -m simulate warm-up, empty cache", f"{n_warm_up} kernels", f"{t_warm_up:.1f} s", "(at install)"),
        Row(
            "simulate + recommend, first run after the warm-up",
            size,
            f"{after['total']:.1f} s",
            "< 30 s, not dominated by compilation",
            f"warm run {t_warm:.1f} s",
            f"{after['total'] / t_warm:.1f}x",
            met=share_after < 0.5 and after["total"] < 30,
        ),
        Row(
            "  of which: numba compilation",
            f"{after['compiles']} kernels",
            f"{after['compile']:.1f} s ({share_after:.0%})",
            "< 50% of the run",
            met=share_after < 0.5,
        ),
        Row(
            "simulate + recommend, warm run (its own cache)",
            "median of 2",
            f"{t_warm:.1f} s",
            "no compilation",
            met=all(w["compiles"] == 0 for w in warm),
        ),
    ]


def main() -> None:
    print_table(rows())


if __name__ == "__main__":
    main()
