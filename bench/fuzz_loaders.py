"""Fuzz the scenario and config loaders (issue 15): thousands of generated bad files each.

``.venv/bin/python -m bench.fuzz_loaders [--files N] [--seed S]`` (default 5,000 files of each
kind) writes every generated file (``calibrate._fuzz``) to a temporary folder, loads it, and
prints how many the loader refused with its own error, how many it accepted (each of those
must write and read back to itself), and every finding: any other exception. Exit status 1
if there is a finding. The test suite runs a few hundred of each
(``tests/test_fuzz_specs.py``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from calibrate._fuzz import fuzz_configs, fuzz_scenarios


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz_loaders", description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000, help="files of each kind (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generator (default 0)")
    args = parser.parse_args(argv)
    findings = 0
    print(f"{'loader':<22}{'files':>8}{'refused':>9}{'accepted':>10}{'findings':>10}{'seconds':>9}")
    with tempfile.TemporaryDirectory() as folder:
        for name, fuzz in (("Scenario.from_toml", fuzz_scenarios), ("Recommendation.from_json", fuzz_configs)):
            t0 = time.perf_counter()
            counts = fuzz(folder, args.files, seed=args.seed)
            seconds = time.perf_counter() - t0
            print(
                f"{name:<22}{counts.files:>8,}{counts.refused:>9,}{counts.accepted:>10,}"
                f"{len(counts.findings):>10,}{seconds:>9.1f}"
            )
            for finding in counts.findings:
                print(f"  {finding}")
            findings += len(counts.findings)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
