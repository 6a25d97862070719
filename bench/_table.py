"""One row per benchmark figure, printed as one table."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    figure: str
    size: str
    measured: str
    target: str
    peer: str = ""
    ratio: str = ""
    met: bool | None = None


def print_table(rows: list[Row]) -> None:
    header = ("figure", "size", "measured", "target", "met", "peer (same run)", "ratio")
    body = [
        (r.figure, r.size, r.measured, r.target, "" if r.met is None else ("yes" if r.met else "NO"), r.peer, r.ratio)
        for r in rows
    ]
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *body]:
        print("  ".join(str(v).ljust(w) for v, w in zip(line, widths)).rstrip())
