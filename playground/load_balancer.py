"""A round-robin reverse proxy on 127.0.0.1, standing in for the load balancer in front of
several webhook workers (tests and the bench).

Each request goes to the next worker in turn, path, body and headers as received (the secret
token included); a worker that cannot be reached is skipped for that request, as a load
balancer's health check would, and only when none answers is the reply 502.
"""

from __future__ import annotations

import itertools
import threading
import urllib.error
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_FORWARDED = ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")
FORWARD_TIMEOUT = 30.0


class LoadBalancer:
    """Forwards each request to one of ``workers`` (base URLs like ``http://127.0.0.1:8081``)."""

    def __init__(self, workers: list[str]) -> None:
        self.workers = list(workers)
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._answered: Counter[str] = Counter()
        self._httpd: ThreadingHTTPServer | None = None

    def __enter__(self) -> LoadBalancer:
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k in _FORWARDED if (v := self.headers.get(k)) is not None}
                status, reply = balancer.forward(self.path, body, headers)
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: one line per update would drown the test's output."""

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``, the address to register as the webhook (plus a path)."""
        assert self._httpd is not None, "the load balancer is not running"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def answered(self) -> Counter[str]:
        """How many requests each worker answered (any HTTP status)."""
        with self._lock:
            return Counter(self._answered)

    def forward(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """Send one request to the next worker that answers; (status, body)."""
        with self._lock:
            start = next(self._turn)
        for step in range(len(self.workers)):
            worker = self.workers[(start + step) % len(self.workers)]
            request = urllib.request.Request(
                worker + path, data=body, headers=headers, method="POST"
            )
            try:
                with _DIRECT.open(request, timeout=FORWARD_TIMEOUT) as response:
                    status, reply = int(response.status), response.read()
            except urllib.error.HTTPError as error:
                status, reply = int(error.code), error.read()
            except OSError:  # down: try the next one
                continue
            with self._lock:
                self._answered[worker] += 1
            return status, reply
        return 502, b"no worker answered"
