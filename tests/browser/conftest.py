"""Fixtures for the browser tests: a JupyterLab server and Debian's Chromium.

The server runs once per session on loopback (free port, no token, its own temporary
config, runtime, settings and workspace folders, the news toast off, JupyterLab's default
windowing; see lab.py). Each test gets a fresh browser page and, afterwards, every kernel the
server started is shut down, so one lesson never sees another's kernel. A failing test
leaves a screenshot in tests/artifacts/.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from . import lab

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session")
def lab_url(tmp_path_factory) -> str:
    """Base URL of a JupyterLab serving a copy of `notebooks/` (beside links to the rest of
    the repository), so nothing a test runs or saves touches the committed lessons."""
    if importlib.util.find_spec("jupyterlab") is None:
        pytest.skip("jupyterlab is not installed")
    try:
        with lab.LabServer(ROOT, tmp_path_factory.mktemp("jupyterlab")) as url:
            yield url
    except RuntimeError as err:
        pytest.fail(str(err))


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium driven by Playwright (never a downloaded browser).

    One per test module, not per session: while Playwright's sync API runs, its event
    loop counts as the thread's running loop, and every later test in the process would
    see it (the widgets' Player would schedule its frames there instead of playing
    synchronously). Stopping it after the module gives the loop back."""
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed (pip install playwright; no browser download)")
    if lab.chromium_executable() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    playwright = sync_playwright().start()
    browser = lab.launch_chromium(playwright)
    yield browser
    browser.close()
    playwright.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def page(request, chromium, lab_url):
    """A fresh page; afterwards a screenshot if the test failed, and every kernel stopped."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"could not save a screenshot: {exc}")
    context.close()
    lab.shutdown_kernels(lab_url)
