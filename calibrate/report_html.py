"""The report's HTML template: one self-contained page, inline CSS, two A4 pages in print.

Nothing here fetches anything: the figures arrive as base64 PNG, the style is inline, and
no element has an ``http(s)`` source. ``page`` takes the sections ``calibrate.report``
assembles (already-escaped HTML fragments) and lays them out: the decision on the first
printed page, the evidence (points, inputs, data, model) on the second.
"""

from __future__ import annotations

from html import escape

CSS = """
@page { size: A4; margin: 11mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; font-size: 8.5pt; color: #222;
       max-width: 186mm; margin: 0 auto; line-height: 1.3; }
h1 { font-size: 14pt; margin: 0 0 2mm 0; }
h2 { font-size: 10.5pt; margin: 3mm 0 1.5mm 0; border-bottom: 1px solid #bbb; }
p { margin: 1mm 0; }
table { border-collapse: collapse; width: 100%; }
th, td { padding: 0.6mm 1.5mm; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
th { text-align: left; background: #f2f2f2; }
td.n, th.n { text-align: right; white-space: nowrap; }
img { max-width: 100%; max-height: 78mm; display: block; margin: 1mm auto; }
img.narrow { max-height: 55mm; }
.lead { font-size: 10.5pt; background: #eef4fb; padding: 2mm; border-left: 3px solid #1f77b4; }
.small, .small td, .small th { font-size: 7.5pt; }
.cols { column-count: 3; column-gap: 4mm; }
.cols table { break-inside: auto; }
.grid { display: flex; gap: 4mm; align-items: flex-start; }
.grid > div { flex: 1; }
.page2 { break-before: page; page-break-before: always; }
.note { color: #555; font-size: 7.5pt; }
"""


def table(head: list[str], rows: list[list[str]], *, numeric_from: int = 1, css: str = "") -> str:
    """An HTML table of text cells (escaped here); columns from ``numeric_from`` right-aligned."""

    def cell(tag: str, i: int, v: str) -> str:
        cls = ' class="n"' if i >= numeric_from else ""
        return f"<{tag}{cls}>{escape(str(v))}</{tag}>"

    out = [f'<table class="{css}">' if css else "<table>"]
    out.append("<tr>" + "".join(cell("th", i, h) for i, h in enumerate(head)) + "</tr>")
    out += ["<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows]
    return "".join(out) + "</table>"


def image(png_base64: str | None, alt: str, css: str = "") -> str:
    """An embedded PNG (nothing when there is no figure)."""
    if not png_base64:
        return ""
    cls = f' class="{css}"' if css else ""
    return f'<img{cls} alt="{escape(alt)}" src="data:image/png;base64,{png_base64}">'


def paragraph(text: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f"<p{cls}>{escape(text)}</p>"


def page(title: str, first: list[tuple[str, str]], second: list[tuple[str, str]], lead: str) -> str:
    """The whole document: ``first`` and ``second`` are (heading, HTML body) pairs."""

    def sections(parts: list[tuple[str, str]]) -> str:
        return "".join((f"<h2>{escape(h)}</h2>" if h else "") + body for h, body in parts)

    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'\">"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="lead">{escape(lead)}</p>'
        f"{sections(first)}"
        f'<div class="page2">{sections(second)}</div>'
        "</body></html>\n"
    )
