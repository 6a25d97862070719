"""Run every benchmark module in this folder (``bench_*.py``) and print one table.

``python -m bench`` (or ``make bench``) runs them all; ``python -m bench world sweep`` runs
those whose names contain the words given (``python -m bench start``: the cold start, imports
and the first run on an empty numba cache). Each module has ``rows()`` returning its figures.
Options ``--name value`` (or ``--name=value``; ``-`` in a name reads as ``_``) go to the
``rows()`` of the modules that take a keyword of that name, as text (``python -m bench
promises --worlds default``); the other modules run as without them.
"""

import importlib
import inspect
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


def _split(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """The words (module filters) and the ``--name value`` options of the command line."""
    words, options, i = [], {}, 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            if not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            options[name.replace("-", "_")] = value
        else:
            words.append(arg)
        i += 1
    return words, options


def main(argv: list[str]) -> int:
    argv, options = _split(argv)
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    wanted = [n for n in names if not argv or any(a in n for a in argv)]
    print(f"machine: {_cpu()}, {os.cpu_count()} cores, python {platform.python_version()}, numpy {np.__version__}")
    from bench._table import print_table

    rows = []
    for name in wanted:
        module = importlib.import_module(f"bench.{name}")
        print(f"running {name} ...", flush=True)
        accepted = inspect.signature(module.rows).parameters
        rows += module.rows(**{k: v for k, v in options.items() if k in accepted})
    print()
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
