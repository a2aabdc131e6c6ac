"""Fixtures for the browser tests: a JupyterLab server and Debian's Chromium.

The server runs once per session on loopback (free port, no token, its own temporary
config, runtime, settings and workspace folders, the news toast off, every notebook cell
kept in the page). Each test gets a fresh browser page and, afterwards, every kernel the
server started is shut down, so one lesson never sees another's kernel. A failing test
leaves a screenshot in tests/artifacts/.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_TIMEOUT_S = 60

# Lab settings written into the temporary settings folder.
LAB_SETTINGS = {
    # The "get notified about Jupyter news?" toast would cover the page.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    # Keep every cell in the DOM, so a widget far down the notebook can be found.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none"},
    # Never write a run notebook back (the server works on a copy anyway).
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings":
        {"autosave": False},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
        return response.read()


def _request(url: str, method: str) -> None:
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=10):  # noqa: S310 (loopback)
        pass


@pytest.fixture(scope="session")
def lab_url(tmp_path_factory) -> str:
    """Base URL of a JupyterLab serving a copy of `notebooks/` (beside links to the rest of
    the repository), so nothing a test runs or saves touches the committed lessons."""
    if importlib.util.find_spec("jupyterlab") is None:
        pytest.skip("jupyterlab is not installed")
    home = tmp_path_factory.mktemp("jupyterlab")
    served = home / "course"
    served.mkdir()
    for entry in ROOT.iterdir():
        if entry.name == "notebooks":
            shutil.copytree(entry, served / "notebooks",
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        elif not entry.name.startswith("."):
            (served / entry.name).symlink_to(entry)
    env = dict(os.environ)
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")]:
        (home / sub).mkdir()
        env[var] = str(home / sub)
    for name, value in LAB_SETTINGS.items():
        target = home / "settings" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value), encoding="utf-8")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.pop("MPLBACKEND", None)
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
           "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
           "--IdentityProvider.token=", "--ServerApp.password=",
           f"--ServerApp.root_dir={served}", "--LabApp.expose_app_in_browser=True",
           "--LabApp.news_url=None", "--ServerApp.disable_check_xsrf=True"]
    log_path = home / "server.log"
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 (closed at teardown)
    proc = subprocess.Popen(cmd, cwd=served, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        try:
            _get(f"{url}/api/status")
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.close()
                tail = log_path.read_text(encoding="utf-8")[-3000:]
                pytest.fail(f"JupyterLab did not start on {url}:\n{tail}")
            time.sleep(0.2)
    yield url
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("playwright is not installed (pip install playwright; no browser download)")
    executable = CHROMIUM if CHROMIUM.exists() else None
    if executable is None and shutil.which("chromium"):
        executable = Path(shutil.which("chromium"))
    if executable is None:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=str(executable), headless=True,
                                         args=CHROMIUM_FLAGS)
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
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
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
    shutdown_kernels(lab_url)


def shutdown_kernels(lab_url: str) -> None:
    """Delete every session and kernel on the server."""
    for session in json.loads(_get(f"{lab_url}/api/sessions", timeout=10)):
        _request(f"{lab_url}/api/sessions/{session['id']}", "DELETE")
    for kernel in json.loads(_get(f"{lab_url}/api/kernels", timeout=10)):
        _request(f"{lab_url}/api/kernels/{kernel['id']}", "DELETE")
