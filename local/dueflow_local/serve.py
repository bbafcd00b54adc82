"""``dueflow serve``: the collectors' workbench (``web/``) and the REST API on 127.0.0.1, over the local
runtime's in-memory world, with a clock a user can move a day at a time.

The page calls the real API handler (``functions/api``) exactly as API Gateway would, with the caller's
identity as the Cognito authorizer would pass it. Signing in is local: the page offers one user per role
(the server's own list: a request naming anyone else is answered 401), and says it is for local use
only. In AWS the same page signs in with Cognito's hosted UI (docs/deploy.md).

One request at a time (the runtime and its executor are single-threaded by design): enough for a person
at a browser and for the browser tests.
"""

from __future__ import annotations

import json
import mimetypes
import os
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dueflow.domain.loan import Loan
from dueflow.settings import AssignmentRule, Settings
from dueflow_local.memory_runtime import MemoryRuntime

WEB = Path(__file__).resolve().parents[2] / "web"

# one user per role (and two agents, so a supervisor has someone to reassign to)
LOCAL_USERS: dict[str, tuple[str, ...]] = {
    "ag1": ("agent",),
    "ag2": ("agent",),
    "sup1": ("supervisor",),
    "mgr1": ("collections_manager",),
    "law1": ("legal",),
    "aud1": ("auditor",),
}
LOCAL_CONFIG = "window.DUEFLOW_CONFIG = {mode: 'local', api: '/api'};\n"


class Workbench:
    """The runtime behind the page: a book loaded, its first day played, the clock under a button."""

    def __init__(self, loans: Iterable[Loan], first_day: date, settings: Settings | None = None) -> None:
        settings = settings or Settings(
            environment="local",
            index_shards=2,
            assignment_rules=(AssignmentRule(agents=("ag1", "ag2")),),
        )
        from dueflow.observability import logger

        # the handlers' INFO lines would bury the URL in the terminal: warnings and errors only, as in a
        # simulation (POWERTOOLS_LOG_LEVEL says otherwise); the level is restored on close
        self._log_level = logger.log_level
        logger.setLevel(os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"))
        start = datetime.combine(first_day - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        self.runtime = MemoryRuntime(settings, start=start)
        self.runtime.__enter__()
        self.runtime.load_book(list(loans), first_day - timedelta(days=1))
        self.day = first_day
        self._morning()

    def _morning(self) -> None:
        """The day's scan, then the dispatcher's ticks to 10:00: the office is open, and so is the window."""
        self.runtime.scan(self.day)
        self.runtime.dispatch_through(self.runtime.local(self.day, "10:00"))

    def close(self) -> None:
        from dueflow.observability import logger

        self.runtime.__exit__(None, None, None)
        logger.setLevel(self._log_level)

    def advance(self) -> dict[str, Any]:
        """The rest of today, then the next day to 10:00: the scan, wake-ups and messages run."""
        self.runtime.dispatch_through(self.runtime.local(self.day, "23:59"))
        self.day += timedelta(days=1)
        self._morning()
        return self.clock()

    def clock(self) -> dict[str, Any]:
        from dueflow import clock

        return {"day": self.day.isoformat(), "now": clock.now().isoformat()}

    def api(self, method: str, target: str, body: Any, user: str) -> tuple[int, Any]:
        """A call of the API as ``user``; a change takes a simulated minute (two calls are never at the same
        instant, as a person's are not)."""
        from dueflow import clock

        if method != "GET":
            self.runtime.dispatch_through(clock.now() + timedelta(minutes=1))
        return self.runtime.api(method, target, body, user=user, groups=LOCAL_USERS[user])


def make_handler(bench: Workbench) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "dueflow-serve"

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet: the terminal shows the URL, not every request

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, payload: Any) -> None:
            self._send(status, json.dumps(payload, ensure_ascii=False).encode(), "application/json; charset=utf-8")

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def _route(self, method: str) -> None:
            parts = urlsplit(self.path)
            path = parts.path
            if path.startswith("/api/"):
                self._api(method, path.removeprefix("/api") + (f"?{parts.query}" if parts.query else ""))
            elif path == "/local/users" and method == "GET":
                self._json(200, {"users": [{"user": u, "groups": list(g)} for u, g in LOCAL_USERS.items()]})
            elif path == "/local/clock" and method == "GET":
                self._json(200, bench.clock())
            elif path == "/local/advance" and method == "POST":
                self._json(200, bench.advance())
            elif path == "/config.js" and method == "GET":
                self._send(200, LOCAL_CONFIG.encode(), "text/javascript; charset=utf-8")
            elif method == "GET":
                self._static(path)
            else:
                self._json(405, {"message": "method not allowed"})

        def _api(self, method: str, target: str) -> None:
            user = self.headers.get("X-Local-User", "")
            if user not in LOCAL_USERS:
                self._json(401, {"message": "sign in: no local user named"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else None
            status, payload = bench.api(method, target, raw, user)
            self._json(status, payload)

        def _static(self, path: str) -> None:
            name = "index.html" if path in ("", "/") else path.lstrip("/")
            target = (WEB / name).resolve()
            if WEB not in target.parents or not target.is_file():
                self._json(404, {"message": f"no {path}"})
                return
            kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if kind.startswith("text/") or kind.endswith("javascript"):
                kind += "; charset=utf-8"
            self._send(200, target.read_bytes(), kind)

    return Handler


def make_server(bench: Workbench, port: int) -> HTTPServer:
    """The HTTP server on 127.0.0.1 (``port`` 0: any free port)."""
    return HTTPServer(("127.0.0.1", port), make_handler(bench))
