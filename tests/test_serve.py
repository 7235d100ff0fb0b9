"""The classroom (``rcnlab serve``) in a real headless browser: Debian's chromium driven
by playwright (the system browser: playwright downloads none). The page loads, the lab
draws Fig. 1 in it, a key creates a pair; a second tab gets a lab of its own.

What the page draws is read from the terminal stream the browser receives over its
websocket (xterm.js paints it on a canvas), escape sequences removed. No skipping: a
missing browser or package fails here, loudly (``.ci/run`` installs both)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rcnlab.cli import main
from rcnlab.tui.serve import lab_command, public_url

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT = 90.0  # wall seconds for a condition on a loaded machine
ESCAPE = re.compile(r"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(cond: Callable[[], Any], what: str, timeout: float = TIMEOUT, tick: Callable[[], None] = lambda: None) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, f"{what}: not within {timeout:g} s"
        tick()
        time.sleep(0.05)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """``rcnlab serve`` on a free loopback port; its URL once it listens."""
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "rcnlab", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)

    def listening() -> bool:
        assert proc.poll() is None, f"rcnlab serve exited: {(tmp_path / 'serve.log').read_text()}"
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_for(listening, "rcnlab serve listening")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


class Tab:
    """One browser tab on the lab: what its terminal has drawn so far, as plain text."""

    def __init__(self, browser: Any, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1500, "height": 1000})
        self.chunks: list[str] = []
        self.page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        self.page.goto(url)

    def _frame(self, payload: Any) -> None:
        self.chunks.append(payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload)

    def text(self) -> str:
        return ESCAPE.sub("", "".join(self.chunks))

    def shows(self, *words: str) -> Callable[[], bool]:
        return lambda: all(w in self.text() for w in words)

    def wait(self, cond: Callable[[], Any], what: str) -> None:
        wait_for(cond, what, tick=lambda: self.page.wait_for_timeout(50))  # the page's events run meanwhile


def test_a_browser_tab_gets_a_lab_of_its_own(server: str) -> None:
    assert Path(CHROMIUM).exists(), "chromium is not installed: apt-get install -y chromium (.ci/run does, as root)"
    from playwright.sync_api import sync_playwright  # rcnlab[test]; a missing package fails here

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            tab = Tab(browser, server)
            tab.page.wait_for_selector(".xterm", state="attached", timeout=TIMEOUT * 1000)
            tab.wait(tab.shows("Topology (Fig. 1)", "H111", "ST112", "E104", "C202", "E105", "ST122", "H121",
                               "No pair yet"), "the lab drawing Fig. 1")
            tab.page.click(".xterm")
            tab.page.keyboard.press("c")
            tab.wait(tab.shows("Create a pair"), "the create-pair dialog")
            tab.page.keyboard.press("Enter")
            tab.wait(tab.shows("pair creation sent"), "the pair created")
            other = Tab(browser, server)  # a second tab: a lab of its own, with no pair
            other.wait(other.shows("Topology (Fig. 1)", "No pair yet"), "a second lab")
            assert "pair creation sent" not in other.text()
        finally:
            browser.close()


def test_serve_command_and_its_bad_input(capsys: Any) -> None:
    assert lab_command("x.toml", 3).endswith("-m rcnlab tui x.toml --seed 3")
    assert public_url("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert public_url("0.0.0.0", 80) != "http://0.0.0.0:80"  # a name browsers elsewhere can reach
    assert main(["serve", "--port", "70000"]) == 2
    assert main(["serve", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert "--port: expected a whole number from 1 to 65535" in err and "no topology 'nosuch'" in err
