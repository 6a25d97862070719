"""Run every benchmark module in this folder (``bench_*.py``) and print one table.

``python -m bench`` (or ``make bench``) runs them all; ``python -m bench world sweep`` runs
those whose names contain the words given (``python -m bench start``: the cold start, imports
and the first run on an empty numba cache). Each module has ``rows()`` returning its figures.
"""

import importlib
import os
import platform
import sys
from pathlib import Path

import numpy as np


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def main(argv: list[str]) -> int:
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    wanted = [n for n in names if not argv or any(a in n for a in argv)]
    print(f"machine: {_cpu()}, {os.cpu_count()} cores, python {platform.python_version()}, numpy {np.__version__}")
    from bench._table import print_table

    rows = []
    for name in wanted:
        module = importlib.import_module(f"bench.{name}")
        print(f"running {name} ...", flush=True)
        rows += module.rows()
    print()
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
