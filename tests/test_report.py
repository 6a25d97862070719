"""The sign-off report: one self-contained HTML page, rendered in a real headless browser.

The browser is Debian's ``chromium``: found at /usr/bin/chromium or installed with apt-get
by the session fixture (skipped, with the reason, only where apt cannot install it).
"""

import dataclasses
import json
import re
import shutil
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulate
from calibrate import explorer
from calibrate.__main__ import main as calibrate_main
from calibrate.capacity import SalesCapacity
from calibrate.comparison import compare, plot_comparison
from calibrate.history import load_history
from calibrate.recommendation import Recommendation
from calibrate.scorecard_json import scorecard_from_json, scorecard_to_json
from calibrate.threshold import recommend
from calibrate.verification import verify

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of a headless-capable Chromium, installed from Debian's packages if missing."""
    found = shutil.which("chromium") or (Path("/usr/bin/chromium").exists() and "/usr/bin/chromium")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.skip("no chromium and no apt-get to install Debian's chromium package")
    done = subprocess.run(
        [apt, "install", "-y", "-q", "chromium"],
        capture_output=True,
        text=True,
        env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    found = shutil.which("chromium")
    if done.returncode != 0 or not found:
        pytest.skip(f"apt-get could not install chromium: {done.stderr.strip()[-300:]}")
    return found


@pytest.fixture(scope="module")
def world():
    return simulate.Scenario(months=8)


@pytest.fixture(scope="module")
def history(world):
    return load_history(simulate.run(world, seed=1))


@pytest.fixture(scope="module")
def rec(world, history):
    """A small recommendation against the world's own rules, verified on two seeds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        made = recommend(
            history,
            SalesCapacity.from_scenario(world),
            world=None,
            current_rules=world.rules,
            simulate_seeds=2,
            bootstrap=30,
            currency="EUR",
            seed=0,
        )
        return made.with_verification(verify(made, world, seeds=2, seed=5))


@pytest.fixture(scope="module")
def saved(rec, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("config") / "config.json"
    rec.to_json(path)
    return path


@pytest.fixture(scope="module")
def page(saved, tmp_path_factory) -> Path:
    """The report made from the saved config alone, by the command line."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert calibrate_main(["report", str(saved), "--out", str(out)]) == 0
    return out


def _run(chromium: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=1"]
    return subprocess.run([chromium, *flags, *args], capture_output=True, text=True, timeout=120)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("src", "href", "action", "data", "poster") and v]


def test_the_config_carries_what_the_report_needs(rec, saved):
    back = Recommendation.from_json(saved)
    assert back.currency == "EUR"
    assert back.data_quality == rec.data_quality
    assert back.data_quality["rows_used"] == rec.history["leads"]
    assert back.model_checks["auc"] == pytest.approx(rec.model_checks["auc"])
    assert back.verified["paired"] and back.verified["seeds"] == 2
    t = rec.tradeoffs.table.set_index("threshold")
    f = back.frontier.set_index("threshold")
    assert f.index.isin(t.index).all() and len(f) <= 80
    np.testing.assert_allclose(f["mqls_per_month"], t.loc[f.index, "mqls_per_month"])
    assert back.threshold in set(f.index) or f.index.min() <= back.threshold <= f.index.max()


def test_the_report_names_its_figures_and_units(rec, page):
    text = page.read_text(encoding="utf-8")
    assert f"Recommended MQL threshold: {rec.threshold:g}" in text
    for words in ("revenue a month, EUR", "business h", "calendar hours", "AUC", "Verified on 2 new simulated years"):
        assert words in text
    mqls = rec.expected["mqls_per_month"].value
    assert f"{mqls:,.0f}" in text
    assert text.count("data:image/png;base64,") >= 2  # frontier, calibration


def test_the_page_requests_nothing(page):
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.urls, "the page embeds its figures"
    assert all(u.startswith("data:") for u in parser.urls), [u[:40] for u in parser.urls if not u.startswith("data:")]
    assert not re.search(r"url\(\s*['\"]?https?:", page.read_text(encoding="utf-8"))


def _requested(done: subprocess.CompletedProcess) -> set[str]:
    """The URLs (without their query) the browser asked for, from its verbose network log."""
    found = re.findall(r"NotifyBeforeURLRequest: (https?://[^\s?]+)", done.stderr)
    return set(found)


def test_the_browser_renders_a_page_and_prints_two_a4_pages(chromium, page, tmp_path):
    # the browser's own calls (time, account checks) are the baseline: those of a blank page
    blank, probe = tmp_path / "blank.html", tmp_path / "probe.html"
    blank.write_text("<!DOCTYPE html><title>blank</title>", encoding="utf-8")
    probe.write_text('<!DOCTYPE html><img src="https://example.org/pixel.png">', encoding="utf-8")
    baseline = _requested(_run(chromium, tmp_path, f"--screenshot={tmp_path / 'b.png'}", blank.as_uri()))
    probed = _requested(_run(chromium, tmp_path, f"--screenshot={tmp_path / 'p.png'}", probe.as_uri()))
    assert "https://example.org/pixel.png" in probed - baseline  # the log does show a page's request
    png = tmp_path / "report.png"
    done = _run(chromium, tmp_path, f"--screenshot={png}", "--window-size=900,2400", page.as_uri())
    assert png.exists(), done.stderr[-500:]
    assert not _requested(done) - baseline
    import matplotlib.image

    pixels = matplotlib.image.imread(png)[..., :3]
    assert pixels.std() > 0.05  # not blank
    pdf = tmp_path / "report.pdf"
    done = _run(chromium, tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert pdf.exists(), done.stderr[-500:]
    pages = re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes())
    assert len(pages) == 2


def test_the_report_refuses_to_overwrite(saved, page):
    assert calibrate_main(["report", str(saved), "--out", str(page)]) == 2
    assert calibrate_main(["report", str(saved), "--out", str(page), "--overwrite"]) == 0


def test_a_bad_currency_is_refused(rec):
    with pytest.raises(ValueError, match="currency"):
        recommend(None, currency="dollars")


# --- compare, the explorer on a saved config, the scorecard as JSON ---------------------------
def test_compare_lists_what_changed(rec, saved, tmp_path):
    rules = rec.rules
    name, values = next(iter(rules.fit.items()))
    value = next(iter(values))
    changed = dataclasses.replace(
        rules, fit={**rules.fit, name: {**values, value: values[value] + 5}}, mql_threshold=rec.threshold + 3
    )
    other = dataclasses.replace(rec, rules=changed, threshold=rec.threshold + 3, tradeoffs=None, verification=None)
    b = tmp_path / "b.json"
    other.to_json(b)
    table = compare(saved, b)
    points = table[table["kind"] == "points"]
    assert list(points["item"]) == [f"{name}: {value}"] and points["change"].tolist() == [5.0]
    th = table[table["kind"] == "threshold"].iloc[0]
    assert (th["a"], th["b"], th["change"]) == (rec.threshold, rec.threshold + 3, 3)
    assert (table[table["kind"] == "expected"]["change"] == 0).all()
    same = compare(saved, saved)
    assert not (same["kind"] == "points").any() and (same["change"].fillna(0) == 0).all()
    ax = plot_comparison(table)
    assert "threshold" in ax.get_title() and ax.get_xlabel().startswith("change in points")
    assert calibrate_main(["compare", str(saved), str(b)]) == 0


def test_compare_prints_within_80_columns(saved, capsys):
    assert calibrate_main(["compare", str(saved), str(saved)]) == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 80


def test_the_explorer_opens_a_saved_config(rec, saved):
    fig = explorer.explore(Recommendation.from_json(saved), widgets=False)
    lines = [ln for ln in fig.axes[0].get_lines() if ln.get_color() == "tab:red"]
    assert any(np.isclose(ln.get_xdata()[0], rec.threshold) for ln in lines)


def test_a_fitted_scorecard_round_trips_through_json(rec, history, tmp_path):
    path = scorecard_to_json(rec.scorecard, tmp_path / "card.json")
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "leadfunnel.scorecard/1"  # plain JSON
    card = scorecard_from_json(path)
    X = history.leads[list(rec.scorecard.feature_names_in_)]
    np.testing.assert_array_equal(card.predict_points(X), rec.scorecard.predict_points(X))
    np.testing.assert_array_equal(card.predict_proba(X), rec.scorecard.predict_proba(X))
    pd.testing.assert_frame_equal(card.table(), rec.scorecard.table())
    assert card.to_rules(threshold=rec.threshold) == rec.scorecard.to_rules(threshold=rec.threshold)
    with pytest.raises(FileExistsError, match="card.json"):
        scorecard_to_json(rec.scorecard, path)
