"""A JupyterLab server and Debian's Chromium, as plain functions: the browser tests'
fixtures (conftest.py) and the browser benchmark (benchmarks/widgets_browser.py) both
start them this way.

The server runs on loopback (free port, no token, its own temporary config, runtime,
settings and workspace folders, the news toast off, JupyterLab's default windowing as a
learner has it) and serves a copy of a checkout's `notebooks/` beside links to the rest
of it, so nothing run or saved touches the committed lessons. It also serves Jupyter Notebook 7's
pages (`/tree`, `/notebooks/...`), from the same server.
"""
from __future__ import annotations

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
    # No windowing setting: JupyterLab's default ("contentVisibility"), what a learner has.
    # It keeps every cell in the DOM, so a widget far down the notebook is found. (An A/B
    # on a slow day, `benchmarks/widgets_browser.py --windowing none`, gave lesson 04 145 ms
    # against 293 with the default; on a faster stretch the default gave 04 95-131 ms.)
    # Never write a run notebook back (the server works on a copy anyway).
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings":
        {"autosave": False},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
        return response.read()


def request(url: str, method: str) -> None:
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=10):  # noqa: S310 (loopback)
        pass


class LabServer:
    """``with LabServer(root, home) as url:`` a JupyterLab serving ``root``'s lessons,
    with ``root`` first on the kernels' PYTHONPATH (so a checkout of an older commit is
    served with its own dlcore)."""

    def __init__(self, root: Path, home: Path):
        self.root, self.home = Path(root).resolve(), Path(home)
        self.proc = None
        self.url = ""

    def __enter__(self) -> str:
        home, root = self.home, self.root
        served = home / "course"
        served.mkdir(parents=True)
        for entry in root.iterdir():
            if entry.name == "notebooks":
                shutil.copytree(entry, served / "notebooks",
                                ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
            elif not entry.name.startswith("."):
                (served / entry.name).symlink_to(entry)
        env = dict(os.environ)
        for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                         ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")]:
            (home / sub).mkdir(exist_ok=True)
            env[var] = str(home / sub)
        for name, value in LAB_SETTINGS.items():
            target = home / "settings" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(value), encoding="utf-8")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH", "")]))
        env.pop("MPLBACKEND", None)
        port = free_port()
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
               "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
               "--IdentityProvider.token=", "--ServerApp.password=",
               f"--ServerApp.root_dir={served}", "--LabApp.expose_app_in_browser=True",
               "--LabApp.news_url=None", "--JupyterNotebookApp.expose_app_in_browser=True",
               "--ServerApp.disable_check_xsrf=True"]
        log_path = home / "server.log"
        self.log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 (closed in __exit__)
        self.proc = subprocess.Popen(cmd, cwd=served, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            try:
                get(f"{self.url}/api/status")
                return self.url
            except OSError as err:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.proc.kill()
                    self.log.close()
                    tail = log_path.read_text(encoding="utf-8")[-3000:]
                    raise RuntimeError(f"JupyterLab did not start on {self.url}:\n{tail}") from err
                time.sleep(0.2)

    def __exit__(self, *exc) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def shutdown_kernels(lab_url: str) -> None:
    """Delete every session and kernel on the server."""
    for session in json.loads(get(f"{lab_url}/api/sessions", timeout=10)):
        request(f"{lab_url}/api/sessions/{session['id']}", "DELETE")
    for kernel in json.loads(get(f"{lab_url}/api/kernels", timeout=10)):
        request(f"{lab_url}/api/kernels/{kernel['id']}", "DELETE")


def chromium_executable() -> Path | None:
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    return Path(found) if found else None


def launch_chromium(playwright):
    """Debian's Chromium through Playwright (never a downloaded browser)."""
    return playwright.chromium.launch(executable_path=str(chromium_executable()),
                                      headless=True, args=CHROMIUM_FLAGS)
