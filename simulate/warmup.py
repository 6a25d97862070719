"""Compile every numba kernel once, so that the first real run loads them from numba's cache.

The kernels are compiled on first use and cached on disk (``cache=True``); on an empty cache
the compilation takes far longer than a run (about 85 s against 13 s for simulating a
default year and recommending a threshold for it, on two cores). ``python -m simulate
warm-up`` pays that once: the Makefile runs it right after ``pip install``, so the first
``make run`` (and ``make test``) find the kernels compiled.

The warm-up goes through the public entry points on a small world rather than calling the
kernels one by one: a kernel is compiled for the argument types it is called with, and the
real code paths pass exactly the types (dtypes, layouts, writability) a real run passes, so
the cached kernels are the ones a real run asks for. It covers what the default scenario
and ``python -m calibrate demo`` use, plus the queue's fast path (no follow-ups); other
paths still compile on their first use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["WarmUp", "warm_up"]

# A quarter is the shortest history whose outcomes can be fitted (a 60-day horizon): about
# 11,000 leads, a second or two of work once compiled.
_MONTHS = 3
_HORIZON_DAYS = 60.0


@dataclass
class WarmUp:
    """What the warm-up did: seconds per step, and numba compilations (outermost calls)."""

    steps: dict[str, float] = field(default_factory=dict)
    compiles: int = 0
    compile_seconds: float = 0.0

    @property
    def seconds(self) -> float:
        return sum(self.steps.values())

    def summary(self) -> str:
        steps = ", ".join(f"{name} {s:.1f} s" for name, s in self.steps.items())
        return (
            f"warm-up: {self.seconds:.1f} s ({steps}); {self.compiles} kernels compiled "
            f"in {self.compile_seconds:.1f} s, now in numba's cache"
        )


def warm_up(*, calibrate: bool = True) -> WarmUp:
    """Run a small world end to end so that every kernel it uses is compiled and cached.

    Parameters
    ----------
    calibrate : also fit points and recommend a threshold (the ``calibrate`` kernels).

    Returns the seconds per step and the number of kernels that had to be compiled (0 when
    the cache was already warm).
    """
    import numpy as np
    from numba.core import event

    report = WarmUp()
    listener = _compile_timer(event.Listener, report)
    event.register("numba:compile", listener)
    try:
        t0 = time.perf_counter()
        from simulate.queue import serve_queue
        from simulate.scenario import Scenario
        from simulate.simulation import run

        scenario = Scenario(months=_MONTHS)
        result = run(scenario, seed=0)  # population, events, scoring, the event-driven queue
        serve_queue([0.0, 1.0], [5.0, 5.0], rep_intervals=[np.array([[0.0, 60.0]])])  # the fast path
        report.steps["simulate"] = time.perf_counter() - t0
        if calibrate:
            import warnings

            import calibrate as cal

            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a quarter is a thin history: said, not needed
                cal.recommend(result, cal.SalesCapacity.from_scenario(scenario), horizon_days=_HORIZON_DAYS, seed=0)
            report.steps["calibrate"] = time.perf_counter() - t0
    finally:
        event.unregister("numba:compile", listener)
    return report


def _compile_timer(base: type, report: WarmUp):
    """A numba event listener adding the outermost "numba:compile" events up into ``report``."""

    class CompileTimer(base):
        depth = 0
        t0 = 0.0

        def on_start(self, ev) -> None:
            if self.depth == 0:
                self.t0 = time.perf_counter()
            self.depth += 1

        def on_end(self, ev) -> None:
            self.depth -= 1
            if self.depth == 0:
                report.compiles += 1
                report.compile_seconds += time.perf_counter() - self.t0

    return CompileTimer()
