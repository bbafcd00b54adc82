"""A real Chromium (the distribution's, driven through its chromedriver by Selenium) against
``dueflow serve``'s server on a free port: the page, the API handler and the in-memory runtime."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from dueflow_local.serve import Workbench, make_server
from tests.e2e.conftest import borrower

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
FIRST_DAY = date(2026, 6, 17)


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(f"none of {names} on PATH: `make install` installs chromium and chromium-driver")


@pytest.fixture
def site() -> Iterator[tuple[str, Workbench]]:
    """The workbench over three overdue loans, assigned in turn to ag1 and ag2 by the serve settings."""
    loans = [borrower("L1"), borrower("L2", principal="120000.00"), borrower("L3", principal="50000.00")]
    bench = Workbench(loans, FIRST_DAY)
    server = make_server(bench, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bench
    finally:
        server.shutdown()
        server.server_close()
        bench.close()


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    options = Options()
    options.binary_location = _binary("chromium", "chromium-browser")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.add_argument("--lang=en-US")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=_binary("chromedriver")))
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
