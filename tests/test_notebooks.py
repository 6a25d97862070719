"""The notebooks in ``notebooks/`` run top to bottom, and their committed outputs are sound.

Each notebook runs in a fresh kernel, in a temporary working directory, with
``LEADFUNNEL_QUICK=1`` (its parameters cell then picks small sizes); the committed file is
read, never rewritten. A cell that raises fails the test.

To refresh the committed outputs after a change (full parameters, small images)::

    .venv/bin/python tests/test_notebooks.py            # all notebooks
    .venv/bin/python tests/test_notebooks.py 02_fit_weights.ipynb

It also turns progress bars off (a saved bar shows its first state, 0%) and reduces the
images to a 128-colour palette. Notebook 2's parameters cell reads ``LEADFUNNEL_DATA`` for the
folder of the X Education export (the refresh points it at ``../shared/data`` when that exists;
the suite runs without it, on a CSV written from a simulated year, and once more with it when it
is there).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SHARED_DATA = ROOT.parent / "shared" / "data"
CELL_TIMEOUT = 300  # seconds per cell
MAX_BYTES = 400_000  # a committed notebook stays small


def execute(path: Path, *, env: dict[str, str], cwd: Path):
    """Run the notebook at ``path`` in a fresh kernel with ``env`` set; return it executed."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.pop("MPLBACKEND", None)  # the kernel's own inline backend, as a user has it
    os.environ.update(env)
    try:
        NotebookClient(
            nb,
            timeout=CELL_TIMEOUT,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(cwd)}},
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return nb


def _cases():
    for path in NOTEBOOKS:
        yield pytest.param(path, {"LEADFUNNEL_DATA": "none"}, id=path.stem)
        if path.name.startswith("02") and (SHARED_DATA / "x-education-leads" / "Leads.csv").exists():
            yield pytest.param(path, {"LEADFUNNEL_DATA": str(SHARED_DATA)}, id=f"{path.stem}-x-education")


@pytest.mark.slow
@pytest.mark.parametrize(("path", "env"), list(_cases()))
def test_notebook_runs(path, env, tmp_path):
    pytest.importorskip("nbclient")
    committed = hashlib.sha256(path.read_bytes()).hexdigest()
    nb = execute(
        path,
        env={"LEADFUNNEL_QUICK": "1", "LEADFUNNEL_OUT": str(tmp_path / "out"), **env},
        cwd=tmp_path,
    )
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, "the notebook draws no figure"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == committed, "the committed file changed"


def test_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == [
        "01_explore_scenarios.ipynb",
        "02_fit_weights.ipynb",
        "03_recommend_threshold.ipynb",
        "04_monitor.ipynb",
        "05_learn_below_threshold.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_clean(path):
    """Committed with current outputs: every code cell ran in order without error, the first
    code cell holds the parameters, the images are small."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert "LEADFUNNEL_QUICK" in code[0].source
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1)), "run it top to bottom"
    for c in code:
        for o in c.outputs:
            assert o.output_type != "error", f"a committed cell failed: {c.source[:60]!r}"
            assert "Traceback" not in o.get("text", "")
            for image in (o.get("data", {}).get("image/png"),):
                assert image is None or len(image) < 150_000, f"an image over 110 kB in {c.source[:60]!r}"
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs), "outputs are missing"
    assert "widgets" not in nb.metadata, "widget state is not committed (it doubles the images)"
    assert path.stat().st_size < MAX_BYTES


EDITED_BY_A_USER = {
    "01_explore_scenarios.ipynb": ("REPS", "SLA_HOURS", "SLA_CLOCK", "SLA_TARGET"),
    "02_fit_weights.ipynb": ("HISTORY_CSV", "MAPPING", "EVENTS_CSV", "DATA_DIR", "MAX_RULES"),
    "03_recommend_threshold.ipynb": (
        "HISTORY_CSV",
        "MAPPING",
        "EVENTS_CSV",
        "CURRENT_RULES_JSON",
        "TIMEZONE",
        "REPS",
        "SLA_HOURS",
        "SLA_CLOCK",
        "SLA_TARGET",
    ),
    "04_monitor.ipynb": ("SEED", "MONTHS", "SHIFT_FROM", "SHIFT_STEP", "LEAVES"),
    "05_learn_below_threshold.ipynb": ("MONTHS", "SEED", "PRECISION", "BANDS"),
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_parameters_cell_is_all_a_user_edits(path):
    """The names a user sets to run on an own export are assigned in the first code cell and
    nowhere else; no cell looks for data in parent folders or reads the environment for a
    path outside the parameters cell."""
    code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    for name in EDITED_BY_A_USER[path.name]:
        assert f"\n{name} = " in "\n" + code[0].source, f"{name} is not set in the parameters cell"
        for c in code[1:]:
            assert f"\n{name} = " not in "\n" + c.source, f"{name} is set again in {c.source[:60]!r}"
    for c in code:
        assert ".parents" not in c.source and "shared/data" not in c.source.replace("\\", "/")
    assert not any("os.environ" in c.source for c in code[1:]), "only the parameters cell reads the environment"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_widget_outputs_have_a_static_fallback(path):
    """An HTML export (no kernel, no widget code from the internet) shows every output: a
    widget's output carries a picture or a table beside it, and no saved output is a bare
    widget (a progress bar)."""
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        for o in c.get("outputs", []):
            data = o.get("data", {})
            if "application/vnd.jupyter.widget-view+json" in data:
                assert {"image/png", "text/html"} & set(data), f"a widget with no static picture: {c.source[:60]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_an_html_export_shows_every_picture(path):
    """The committed notebook exported to HTML (nbconvert, as a user shares it) holds every
    saved picture, the explorer's among them, as an embedded image."""
    nbconvert = pytest.importorskip("nbconvert")
    nb = nbformat.read(path, as_version=4)
    pictures = [
        o["data"]["image/png"][:80] for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    html, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    assert pictures and all(p in html for p in pictures)


def test_notebook_3_works_in_the_fitted_world():
    code = "\n".join(
        c.source for c in nbformat.read(ROOT / "notebooks" / "03_recommend_threshold.ipynb", as_version=4).cells
    )
    assert "world = calibrate.fit_world(history" in code
    assert "calibrate.verify(rec, world," in code and "recommend(\n        history,\n        world=world," in code


# --- refreshing the committed outputs -----------------------------------------------------
def _shrink_png(data: str, colors: int = 128) -> str:
    """The PNG with its colours reduced to a palette: a third of the bytes, the same picture."""
    from PIL import Image

    image = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(buffer, "PNG", optimize=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def refresh(path: Path) -> float:
    """Run ``path`` with its full parameters and write it back with small outputs."""
    env = {"LEADFUNNEL_PROGRESS": "0"}  # a saved progress bar would show its first state, 0%
    if SHARED_DATA.exists():
        env["LEADFUNNEL_DATA"] = str(SHARED_DATA)
    os.environ.pop("LEADFUNNEL_QUICK", None)
    os.environ.pop("LEADFUNNEL_OUT", None)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as cwd:
        nb = execute(path, env=env, cwd=Path(cwd))
    elapsed = time.perf_counter() - start
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "image/png" in output.get("data", {}):
                output["data"]["image/png"] = _shrink_png(output["data"]["image/png"])
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return elapsed


if __name__ == "__main__":
    names = sys.argv[1:]
    for path in NOTEBOOKS:
        if not names or path.name in names:
            seconds = refresh(path)
            print(f"{path.name}: {seconds:.0f} s, {path.stat().st_size / 1000:.0f} kB")
