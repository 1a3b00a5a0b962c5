"""A real JupyterLab driven by Debian's Chromium through Playwright (see TESTING.md).

``lab`` starts ``jupyter lab`` from this environment on a free loopback port, with a token, a
temporary root folder, its own settings (no news pop-ups) and the app object exposed to the
page, and always shuts it down.  ``notebook`` writes a purpose-made notebook into that root,
opens it in a fresh page, and hands back a ``LabPage`` that runs it and says what a person would
see.  Screenshots go to ``test-artifacts/browser/``.  The tests skip, saying why, only when
Chromium or Playwright are not installed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
# Console messages that are the page failing to reach the internet or optional server
# endpoints, not the page's own code failing.
NETWORK_NOISE = ("Failed to load resource", "net::ERR_", "ERR_INTERNET_DISCONNECTED", "favicon",
                 "404 (Not Found)", "lab/api/news", "update check")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = _chromium()
    if path is None:
        pytest.skip("browser tests need Debian's Chromium: apt-get install -y chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("browser tests need Playwright for Python: pip install playwright")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_settings(root: Path) -> Path:
    """User settings: no news or update checks, and every cell rendered (no windowing), so
    each output is in the page as it would be for a person scrolling through it."""
    settings = root / "settings" / "@jupyterlab"
    files = {
        "apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
        "notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    }
    for name, values in files.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    return settings.parent


class Lab:
    """A running JupyterLab: its URL, token and the folder it serves."""

    def __init__(self, root: Path, port: int, token: str) -> None:
        self.root, self.port, self.token = root, port, token
        self.url = f"http://127.0.0.1:{port}"

    def copy_notebook(self, path: Path) -> str:
        """Put a copy of an existing notebook (a tour notebook) in the served folder."""
        shutil.copy(path, self.root / "work" / path.name)
        return path.name

    def add_notebook(self, name: str, cells: list[str]) -> str:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, self.root / "work" / name)
        return name

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"


@pytest.fixture(scope="session")
def lab(chromium_path, tmp_path_factory):
    """JupyterLab on a free loopback port, serving a temporary folder; stopped at the end."""
    root = tmp_path_factory.mktemp("lab")
    (root / "work").mkdir()
    port, token = _free_port(), secrets.token_hex(16)
    venv_bin = str(Path(sys.executable).parent)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               PATH=venv_bin + os.pathsep + os.environ.get("PATH", ""),
               JUPYTERLAB_SETTINGS_DIR=str(_lab_settings(root)),
               JUPYTERLAB_WORKSPACES_DIR=str(root / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(root / "runtime"))
    log = (root / "lab.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--ServerApp.token={token}", f"--ServerApp.root_dir={root / 'work'}",
         "--ServerApp.port_retries=0", "--LabApp.expose_app_in_browser=True",
         "--ServerApp.open_browser=False"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root / "work",
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start; its log:\n{(root / 'lab.log').read_text()[-3000:]}")
                time.sleep(0.5)
        yield Lab(root, port, token)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_FLAGS)
        yield b
        b.close()


class LabPage:
    """One notebook open in JupyterLab, with what the page logged."""

    def __init__(self, page, name: str) -> None:
        self.page, self.name = page, name
        self.console_errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))

    def _console(self, msg) -> None:
        if msg.type == "error" and not any(n in msg.text for n in NETWORK_NOISE):
            self.console_errors.append(msg.text)

    def open(self, url: str) -> "LabPage":
        self.page.goto(url)
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        self.page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget "
                                    "&& window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
        self.accept_kernel_dialog()
        self.wait_kernel_ready()
        return self

    def accept_kernel_dialog(self) -> None:
        dialog = self.page.locator(".jp-Dialog .jp-mod-accept")
        try:
            dialog.first.wait_for(timeout=3_000)
            dialog.first.click()
        except Exception:  # no dialog: the notebook's kernelspec was used directly
            pass

    def wait_kernel_ready(self, timeout_s: float = 120) -> None:
        self.page.wait_for_function(
            "() => { const s = window.jupyterapp.shell.currentWidget.sessionContext;"
            " return s.session && s.session.kernel && s.session.kernel.status === 'idle'; }",
            timeout=timeout_s * 1000)

    FINISHED = (
        "() => { const nb = window.jupyterapp.shell.currentWidget; const cells = nb.content.model.cells;"
        " for (let i = 0; i < cells.length; i++) { const c = cells.get(i);"
        "   if (c.type === 'code' && (c.executionCount === null || c.executionState === 'running')) return false; }"
        " return nb.sessionContext.session.kernel.status === 'idle'; }")

    def start_all(self) -> None:
        """Run All Cells without waiting (``finished`` says when every cell has run).

        The command's promise is not returned: page.evaluate would wait for the whole run.
        """
        self.page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

    def finished(self) -> bool:
        """Every code cell has run and the kernel is idle."""
        return self.page.evaluate(self.FINISHED)

    def run_all(self, timeout_s: float = 240) -> None:
        """Run All Cells and wait until every cell has run and the kernel is idle."""
        self.start_all()
        self.page.wait_for_function(self.FINISHED, timeout=timeout_s * 1000, polling=500)

    def run_cells(self, indices: list[int], timeout_s: float = 240) -> None:
        """Run the code cells ``indices`` again (as selected cells, in order) and wait until each
        has a new execution count and the kernel is idle."""
        before = self.page.evaluate(
            "ix => { const nb = window.jupyterapp.shell.currentWidget.content;"
            " nb.activeCellIndex = ix[0]; nb.deselectAll(); ix.forEach(i => nb.select(nb.widgets[i]));"
            " const counts = ix.map(i => nb.model.cells.get(i).executionCount);"
            " window.jupyterapp.commands.execute('notebook:run-cell'); return counts; }", indices)
        self.page.wait_for_function(
            f"([ix, before]) => ({self.FINISHED})() && ix.every((i, n) => {{"
            " const c = window.jupyterapp.shell.currentWidget.content.model.cells.get(i);"
            " return c.executionCount !== null && c.executionCount > (before[n] || 0); })",
            arg=[indices, before], timeout=timeout_s * 1000, polling=500)

    def error_outputs(self) -> list[str]:
        return self.page.evaluate(
            "() => { const cells = window.jupyterapp.shell.currentWidget.content.model.cells; const out = [];"
            " for (let i = 0; i < cells.length; i++) { const c = cells.get(i); if (c.type !== 'code') continue;"
            "   for (const o of c.outputs.toJSON()) if (o.output_type === 'error') out.push(o.ename + ': ' + o.evalue); }"
            " return out; }")

    def cell_output(self, index: int):
        """The output area of code cell ``index`` as a Playwright locator."""
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea")

    def plots(self, index: int):
        """The plotly graph divs in code cell ``index``'s output."""
        return self.cell_output(index).locator(".js-plotly-plot")

    def hover_point(self, plot, trace: int, point: int) -> str:
        """Move the mouse onto one point of a plotly figure; the hover label's text."""
        plot.scroll_into_view_if_needed()
        x, y = plot.evaluate(
            "(gd, [t, i]) => { const fl = gd._fullLayout, tr = gd._fullData[t];"
            " const r = gd.getBoundingClientRect();"
            " return [r.left + fl.xaxis._offset + fl.xaxis.l2p(tr.x[i]),"
            "         r.top + fl.yaxis._offset + fl.yaxis.l2p(tr.y[i])]; }", [trace, point])
        self.page.mouse.move(x - 3, y - 3)
        self.page.mouse.move(x, y)
        label = plot.locator(".hoverlayer .hovertext")
        label.first.wait_for(timeout=10_000)
        return label.first.text_content()

    def screenshot(self, label: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{Path(self.name).stem}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_clean(self) -> None:
        assert not self.error_outputs(), f"{self.name}: error outputs {self.error_outputs()}"
        assert not self.console_errors, f"{self.name}: JavaScript errors {self.console_errors}"


@pytest.fixture
def notebook(lab, browser, request):
    """Open a notebook: ``notebook(cells)`` writes a purpose-made one, ``notebook(path)`` copies
    an existing one; -> LabPage.  A final screenshot is kept, and its kernel shut down."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened: list[LabPage] = []

    def open_(cells: "list[str] | Path", name: str | None = None) -> LabPage:
        if isinstance(cells, Path):
            name = lab.copy_notebook(cells)
        else:
            name = lab.add_notebook(name or f"{request.node.name}.ipynb", cells)
        lab_page = LabPage(context.new_page(), name)
        opened.append(lab_page)
        return lab_page.open(lab.notebook_url(name))

    yield open_
    for lab_page in opened:
        try:
            lab_page.screenshot("final")
            lab_page.page.evaluate("window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        except Exception:  # the page may already be gone; the server shuts kernels down anyway
            pass
    context.close()
