"""The documentation site builds with warnings as errors, and its pages render in a
headless Chromium: the landing page with its theme, the API page of
DiffusionForecaster as numpydoc lays it out, a gallery page with its figures
loaded, and the search page finding DiffusionForecaster.

The build runs on a copy of the sources (``docs/``, ``examples/gallery/``,
``benchmarks/README.md``) in a temporary folder, so it reuses nothing from an
earlier build and writes nothing into the checkout; the gallery runs at tiny
settings (``TSDIFF_EXAMPLE_TINY=1``). Pages are served over http from a local
thread (the search page reads its index over http). Set ``TSDIFF_DOCS_SCREENSHOTS``
to a folder to keep a screenshot of every page checked.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
NEEDED = (
    "sphinx",
    "sphinx_gallery",
    "numpydoc",
    "pydata_sphinx_theme",
    "myst_parser",
    "playwright",
)
_missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
if _missing:
    pytest.skip(
        f"{', '.join(_missing)} not installed (the docs extra)",
        allow_module_level=True,
    )
if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FORECASTER_PAGE = "generated/tsdiff.DiffusionForecaster.html"
GALLERY_PAGE = "auto_examples/plot_co2_impute_and_forecast.html"


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    """``(completed sphinx-build, html folder)`` of a fresh build of the site."""
    tmp = tmp_path_factory.mktemp("docs_site")
    sources = tmp / "sources"
    outputs = ("_build", "generated", "auto_examples", "sg_execution_times.rst")
    shutil.copytree(
        ROOT / "docs", sources / "docs", ignore=shutil.ignore_patterns(*outputs)
    )
    shutil.copytree(ROOT / "examples" / "gallery", sources / "examples" / "gallery")
    (sources / "benchmarks").mkdir()
    shutil.copy(ROOT / "benchmarks" / "README.md", sources / "benchmarks")
    html = tmp / "html"
    env = dict(
        os.environ,
        TSDIFF_EXAMPLE_TINY="1",
        OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"),
    )
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-j", "1"]
    command += ["-b", "html", "-d", str(tmp / "doctrees")]
    command += [str(sources / "docs"), str(html)]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    return done, html


@pytest.fixture(scope="module")
def site(build):
    """Base URL of the built site, served over http by a local thread."""
    done, html = build
    if done.returncode != 0:
        pytest.fail("the site did not build (see test_the_site_builds_cleanly)")
    handler = functools.partial(_QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no line per request on stderr
        pass


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page that records the JavaScript errors it meets."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    page.close()


def _screenshot(page, name: str, full_page: bool = False) -> None:
    folder = os.environ.get("TSDIFF_DOCS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=full_page)


def _broken_images(page) -> list[str]:
    """Sources of the page's images that did not load."""
    return page.evaluate(
        "[...document.images]"
        ".filter(img => !(img.complete && img.naturalWidth > 0))"
        ".map(img => img.src)"
    )


def test_the_site_builds_cleanly(build):
    done, html = build
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-6000:]
    assert "build succeeded" in done.stdout
    assert (html / FORECASTER_PAGE).exists()


def test_the_landing_page_renders_with_the_theme(site, page):
    page.goto(site + "index.html")
    _screenshot(page, "landing")
    assert page.title().startswith("tsdiff")
    assert page.inner_text("h1").strip().startswith("tsdiff")
    # pydata-sphinx-theme's header holds the sections of the site
    header = page.inner_text("header")
    for section in ("User guide", "Gallery", "API reference"):
        assert section in header
    # the theme's stylesheet applies: its header is a flex row, not a block
    display = page.evaluate(
        "getComputedStyle(document.querySelector('.bd-header')).display"
    )
    assert display == "flex"
    assert page.locator("div.highlight pre").count() >= 1  # the code example
    assert page.errors == []


def test_the_forecaster_api_page_is_laid_out_by_numpydoc(site, page):
    page.goto(site + FORECASTER_PAGE)
    _screenshot(page, "api_forecaster")
    assert "DiffusionForecaster" in page.inner_text("h1")
    cls = page.locator("dl.py.class").first
    assert cls.locator("dt.sig").first.get_attribute("id") == (
        "tsdiff.DiffusionForecaster"
    )
    # numpydoc turns the Parameters section into a field list of parameters
    field_list = cls.locator("dl.field-list").first
    field_list.evaluate("list => list.scrollIntoView()")
    page.evaluate("window.scrollBy(0, -100)")  # below the theme's sticky header
    _screenshot(page, "api_forecaster_parameters")
    fields = field_list.inner_text()
    assert "Parameters" in fields
    for name in ("context_length", "prediction_length", "calibration_windows"):
        assert name in fields
    # the methods that tsdiff defines, each documented on the page
    for method in ("fit", "predict_quantiles", "backtest", "update", "save"):
        assert page.locator(f"[id='tsdiff.DiffusionForecaster.{method}']").count()
    assert page.errors == []


def test_a_gallery_page_shows_its_output_and_figures(site, page):
    page.goto(site + GALLERY_PAGE, wait_until="load")
    _screenshot(page, "gallery_example", full_page=True)
    figures = page.locator("img.sphx-glr-single-img")
    assert figures.count() >= 2  # the imputation and the fan chart
    assert _broken_images(page) == []
    assert page.locator("table.dataframe").count() >= 3  # the frames shown
    page.goto(site + "auto_examples/index.html", wait_until="load")
    _screenshot(page, "gallery_index")
    assert page.locator(".sphx-glr-thumbcontainer").count() == 3
    assert _broken_images(page) == []
    assert page.errors == []


def test_the_search_page_finds_the_forecaster(site, page):
    page.goto(site + "search.html?q=DiffusionForecaster")
    results = page.locator("#search-results li a")
    results.first.wait_for(timeout=30_000)
    _screenshot(page, "search")
    links = results.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert any(link.split("?")[0].endswith(FORECASTER_PAGE) for link in links), links
    assert page.errors == []
