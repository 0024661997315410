"""formgrader served by a real Jupyter server on 127.0.0.1 and driven by headless Chromium (selenium),
for the tests that hand-grade the way an instructor does. Skips, saying what to install, where
Chromium, chromedriver or selenium is missing (``make browser`` installs them)."""
import contextlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from notebook_tools import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import release


def chromium() -> tuple[str, str]:
    """(browser, chromedriver) paths, or skip the test saying what to install."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (browser and driver):
        pytest.skip("headless Chromium is not installed (apt-get install chromium chromium-driver): "
                    "the formgrader browser test did not run")
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install selenium): the formgrader browser test did not run")
    return browser, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"Jupyter did not listen on port {port} within {seconds} s")


@contextlib.contextmanager
def formgrader(course: Path, scratch: Path):
    """Yield ``(chrome, base_url)``: a logged-in headless Chromium and the server's base URL, for the
    course folder ``course`` (its nbgrader_config.py and gradebook.db); Jupyter's config and runtime
    files go under ``scratch``. The server and the browser are stopped on leaving."""
    browser, driver_path = chromium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    port, token = _free_port(), "rnnlab-test-token"
    env = {**release.tool_env(), "JUPYTER_CONFIG_DIR": str(scratch / "jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(scratch / "jupyter-runtime")}
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "jupyter"), "server", "--no-browser", "--ip=127.0.0.1",
                               f"--port={port}", f"--IdentityProvider.token={token}", "--allow-root",
                               f"--ServerApp.root_dir={course}"],
                              cwd=course, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1600,1200"):   # an instructor's screen: formgrader's buttons do not overlap
        options.add_argument(flag)
    chrome = None
    try:
        _wait_for_port(port)
        base = f"http://127.0.0.1:{port}"
        chrome = webdriver.Chrome(service=Service(driver_path), options=options)
        chrome.set_page_load_timeout(120)
        chrome.get(f"{base}/formgrader?token={token}")
        yield chrome, base
    finally:
        if chrome is not None:
            chrome.quit()
        server.terminate()
        server.wait(timeout=30)


def wait_until(check, seconds: float = 30, what: str = "the condition"):
    """Poll ``check()`` until it returns something true (and return that), or fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen within {seconds} s")
