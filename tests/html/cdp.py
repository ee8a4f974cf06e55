"""A minimal Chrome DevTools Protocol client for the HTML report tests.

Starts Debian's headless Chromium on a fresh profile with its network-chatter switches off and
``--remote-debugging-port=0``, reads the chosen port from ``<profile>/DevToolsActivePort`` (never a
fixed port), and speaks CDP over the browser's websocket (``websocket-client``) with flattened
sessions: one :class:`Page` per test, each with its own event log.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--remote-debugging-port=0")


def find_chromium() -> str | None:
    """Path of the Chromium binary (``$CHROMIUM``, ``chromium`` on PATH, ``/usr/bin/chromium``) or None."""
    for cand in (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if cand and Path(cand).is_file() and os.access(cand, os.X_OK):
            return cand
    return None


class CDPError(RuntimeError):
    """A CDP command answered with an error."""


class Connection:
    """One websocket to the browser; commands wait for their answer, events are kept in order."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        import websocket  # websocket-client (dev extra)

        # No Origin header: Chromium refuses websocket origins it was not told to allow.
        self.ws = websocket.create_connection(url, timeout=timeout, suppress_origin=True)
        self._timeout_error = websocket.WebSocketTimeoutException
        self.events: list[dict[str, Any]] = []
        self._next = 0

    def _recv(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no answer from Chromium in time")
        self.ws.settimeout(remaining)
        try:
            message: dict[str, Any] = json.loads(self.ws.recv())
        except self._timeout_error as e:
            raise TimeoutError("no answer from Chromium in time") from e
        return message

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
             timeout: float = 10.0) -> dict[str, Any]:
        self._next += 1
        ident = self._next
        msg: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while True:
            m = self._recv(deadline)
            if m.get("id") == ident:
                if "error" in m:
                    raise CDPError(f"{method}: {m['error']}")
                result: dict[str, Any] = m.get("result", {})
                return result
            if "method" in m:
                self.events.append(m)

    def wait_event(self, method: str, *, session: str | None, since: int, timeout: float = 10.0) -> dict[str, Any]:
        """The first ``method`` event of ``session`` at or after index ``since`` of :attr:`events`."""
        deadline = time.monotonic() + timeout
        i = since
        while True:
            while i < len(self.events):
                e = self.events[i]
                i += 1
                if e["method"] == method and e.get("sessionId") == session:
                    params: dict[str, Any] = e.get("params", {})
                    return params
            m = self._recv(deadline)
            if "method" in m:
                self.events.append(m)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()


class Page:
    """One tab attached with a flattened session; Runtime, Log, Network and Page enabled."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.target = conn.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = conn.send("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Network", "Page"):
            self.call(f"{domain}.enable")
        self._viewport: dict[str, Any] = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        return self.conn.send(method, params, session=self.session)

    def events(self, *methods: str) -> list[dict[str, Any]]:
        """Params of this page's events of the given methods, in order."""
        return [e.get("params", {}) for e in self.conn.events
                if e.get("sessionId") == self.session and e["method"] in methods]

    def navigate(self, url: str, timeout: float = 15.0) -> None:
        since = len(self.conn.events)
        answer = self.call("Page.navigate", url=url)
        if answer.get("errorText"):
            raise CDPError(f"navigate {url}: {answer['errorText']}")
        self.conn.wait_event("Page.loadEventFired", session=self.session, since=since, timeout=timeout)
        self.evaluate("1")  # a round trip, so that events sent before it are in the log

    def evaluate(self, expression: str) -> Any:
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in r:
            raise CDPError(f"evaluate: {r['exceptionDetails']}")
        return r["result"].get("value")

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions, error log entries and dialogs seen on this page."""
        out = [f"console.{e['type']}: {e.get('args')}" for e in self.events("Runtime.consoleAPICalled")
               if e.get("type") in ("error", "assert")]
        out += [f"exception: {e.get('exceptionDetails')}" for e in self.events("Runtime.exceptionThrown")]
        out += [f"log: {e['entry'].get('text')} ({e['entry'].get('url')})" for e in self.events("Log.entryAdded")
                if e["entry"].get("level") == "error"]
        out += [f"dialog: {e.get('message')}" for e in self.events("Page.javascriptDialogOpening")]
        return out

    def requested_urls(self) -> list[str]:
        return [e["request"]["url"] for e in self.events("Network.requestWillBeSent")]

    def viewport(self, width: int, height: int, *, mobile: bool = False, scale: float = 1.0) -> None:
        self._viewport = {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile}
        self.call("Emulation.setDeviceMetricsOverride", **self._viewport)

    def screenshot(self, path: Path) -> bytes:
        """A PNG of the whole page (not just the viewport), written to ``path``.

        The viewport is stretched to the page's height for the capture (and restored): a clip
        beyond the viewport leaves horizontally scrolling boxes partly unpainted.
        """
        vp = dict(self._viewport)
        height = self.evaluate("Math.ceil(document.documentElement.scrollHeight)")
        self.call("Emulation.setDeviceMetricsOverride", **{**vp, "height": int(height)})
        try:
            data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        finally:
            self.call("Emulation.setDeviceMetricsOverride", **vp)
        path.write_bytes(data)
        return data

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send("Target.closeTarget", {"targetId": self.target})


@contextlib.contextmanager
def chromium(executable: str, profile: Path, *, start_timeout: float = 15.0) -> Iterator[Connection]:
    """Start headless Chromium on ``profile`` and yield a connection; always kill it afterwards."""
    profile.mkdir(parents=True, exist_ok=True)
    log = (profile.parent / "chromium.log").open("wb")
    proc = subprocess.Popen([executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    conn: Connection | None = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + start_timeout
        while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
            if proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {proc.returncode}; see {log.name}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"chromium wrote no DevToolsActivePort in {start_timeout} s")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        conn = Connection(f"ws://127.0.0.1:{int(port)}{path}")
        yield conn
    finally:
        if conn is not None:
            conn.close()
        # Chromium's helpers (zygote, renderer, utility) share its new process group: end them all.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):  # stragglers of the group, if any
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
