"""Real Jupyter in a real browser: Jupyter servers on 127.0.0.1 and headless Chromium driven by Playwright.

Each server runs in a throwaway folder (a copy of the course, or a student's folder) on a random port
with a random token, and its own Jupyter config, runtime, settings and workspace folders; it is shut
down (kernels too) when its test module ends. The browser is Debian's chromium (Playwright's own
browser download is not used). Outside CI a machine without chromium or Playwright skips these tests;
in CI (CI=true) they run or fail.

KIT_SCREENSHOTS=1 saves a screenshot of each step under reports/screenshots/.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO / "reports" / "screenshots"
#: JupyterLab and Notebook 7 settings for the tests: every cell in the page (no windowing, so that the
#: page's text is the notebook's), and no news or update pop-ups over the notebook
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def _missing() -> str:
    if not os.path.exists(CHROMIUM):
        return "no chromium (apt-get install chromium; make setup does)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no Playwright for Python (make setup installs it)"
    return ""


MISSING = _missing()


#: console errors of the installed Jupyter front ends themselves, with nothing of the kit involved (they
#: occur with every extension disabled, nbgrader's too): Notebook 7.6's shortcuts plugin reads the settings
#: schema of a plugin that its settings registry does not hold. Any other console error fails a test.
UPSTREAM_ERRORS = {
    "notebook": ("uncaught: Cannot read properties of undefined (reading 'schema')",),
}


def unexpected_errors(tab: Tab, ui: str = "") -> list[str]:
    """The page's console errors, except the front end's own known ones (UPSTREAM_ERRORS[ui])."""
    known = UPSTREAM_ERRORS.get(ui, ())
    return [e for e in tab.errors if e not in known]


def skip_without_browser() -> None:
    """Skip the calling test module on a machine without chromium or Playwright, except in CI."""
    if MISSING and os.environ.get("CI") != "true":
        pytest.skip(f"browser tests: {MISSING}", allow_module_level=True)


def screenshot(page: Any, name: str, element: Any = None) -> None:
    """Save the page (or one element of it) as reports/screenshots/<name>.png when KIT_SCREENSHOTS=1."""
    if os.environ.get("KIT_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (element or page).screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def html_text(markup: str) -> str:
    """The text of an HTML page as a reader sees it (tags removed, entities decoded), for files not opened in
    the browser."""
    import html
    import re

    markup = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", markup)
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


#: the source regions that feedback must not show (solutions may: students see their own code)
HIDDEN_REGIONS = (("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"),)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    token: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes]
    home: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            body = reply.read()
        return json.loads(body) if body else None


@contextlib.contextmanager
def jupyter_server(root: Path, home: Path) -> Iterator[Server]:
    """A Jupyter server (JupyterLab, Notebook 7, nbgrader's extensions) on 127.0.0.1 serving root.

    Its current folder is root, so nbgrader reads root's nbgrader_config.py when there is one.
    """
    port, token = free_port(), secrets.token_hex(16)
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "lab-settings"
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ, HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
               PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "assignments")]))
    env.pop("NNKIT_REFERENCE_DIR", None)
    # the venv's Jupyter: kernels ("python3") and extensions from this interpreter's prefix
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    log = home / "server.log"
    command = [sys.executable, "-m", "jupyter", "server", "--no-browser", "--allow-root",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", token, root, log, process, home)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                server.api("/api/status")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Jupyter server did not start:\n" + server.log_text()[-3000:]) from None
                time.sleep(0.3)
        yield server
    finally:
        with contextlib.suppress(OSError):
            server.api("/api/shutdown", method="POST")   # kernels too
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass
class Tab:
    """A browser page and what its console said."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


@contextlib.contextmanager
def new_tab(browser: Any, width: int = 1280, height: int = 860) -> Iterator[Tab]:
    """A fresh browser context (no cookies) and page, recording console errors, requests and dialogs."""
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(60_000)
    page = context.new_page()
    tab = Tab(page)
    page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: tab.errors.append(f"uncaught: {e}"))
    page.on("request", lambda r: tab.requests.append(r.url))

    def on_dialog(dialog: Any) -> None:
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    try:
        yield tab
    finally:
        context.close()


def log_in(page: Any, server: Server, next_path: str = "/") -> None:
    """Log in with the server's token on its login page, as a person would, and go on to next_path."""
    page.goto(f"{server.url}/login?next={urllib.parse.quote(next_path)}")
    if "/login" not in page.url:   # logged in already: the login page went on to next_path
        return
    page.fill("input[name=password]", server.token)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()


def launch_browser(playwright: Any) -> Any:
    """Debian's chromium, headless, through Playwright (its own browser download is not used)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
