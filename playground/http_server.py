"""HTTP plumbing shared by the local Bot API and the chat page: one threaded server, two kinds
of routes. ``/bot<token>/<method>`` goes to the Bot API; every other path to the mounted pages."""

from __future__ import annotations

import json
import re
import socket
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from playground.protocol import ApiError, JSONDict, parse_body

_BOT_PATH = re.compile(r"/bot([^/]*)/([A-Za-z]+)/?")
_NOT_FOUND = json.dumps(ApiError(404, "Not Found").envelope()).encode()


@dataclass(frozen=True)
class Request:
    """One HTTP request to the pages, as they need it."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # names lower-cased
    body: bytes


@dataclass(frozen=True)
class Response:
    """What the pages answer."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


class Pages(Protocol):
    """Anything that answers the requests that are not Bot API calls."""

    def serve(self, request: Request) -> Response:
        """Answer one request."""
        ...


class BotApi(Protocol):
    """The Bot API side, as the HTTP layer sees it."""

    pages: Pages | None

    def handle(self, token: str, method: str, params: JSONDict) -> tuple[int, bytes]:
        """Run one Bot API call; return (HTTP status, JSON body)."""
        ...


class HTTPServer(ThreadingHTTPServer):
    """A threaded server on ``host:port`` (0: any free port) that hands requests to ``api``."""

    daemon_threads = True  # a pending long poll must not hold up shutdown
    # socketserver's default backlog of 5 drops connections when the bot sends 30 at once.
    request_queue_size = 128

    def __init__(self, api: BotApi, host: str, port: int) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), _Handler)
        self.api = api

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that hang up mid-response; report anything else as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: HTTPServer
    server_version = "ParleyLocalBotAPI/1.0"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        match = _BOT_PATH.fullmatch(parts.path)
        pages = self.server.api.pages
        if match is None and pages is not None:
            self._send(pages.serve(self._request(parts.path, parts.query, raw)))
            return
        status, body = 404, _NOT_FOUND
        try:
            params: JSONDict = dict(parse_qsl(parts.query, keep_blank_values=True))
            params.update(parse_body(self.headers.get("Content-Type", ""), raw))
        except (ValueError, UnicodeDecodeError):
            error = ApiError(400, "Bad Request: can't parse request body").envelope()
            status, body = 400, json.dumps(error).encode()
        else:
            if match is not None:
                status, body = self.server.api.handle(match[1], match[2], params)
        self._send(Response(status, body))

    do_POST = do_GET

    def _request(self, path: str, query: str, body: bytes) -> Request:
        return Request(
            method=self.command,
            path=path,
            query=dict(parse_qsl(query)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:  # the client went away, e.g. a cancelled long poll
            pass

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: a polling bot and a polling page would flood the log."""
