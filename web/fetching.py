"""Safe fetching of admin-given (untrusted) URLs: every hop checked, size and time bounded."""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

import httpx

from web.addresses import AddressRefused
from web.transports import AsyncGuardedTransport, GuardedTransport

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "mc_cid", "mc_eid", "ref", "ref_src", "igshid", "_ga", "yclid", "spm"}
)
DEFAULT_PORTS = {"http": 80, "https": 443}
# httpx's timeout bounds each connect and read, so a server dripping one byte at a time could
# hold a fetch forever; the whole fetch also gets this many times the timeout.
TOTAL_TIME_FACTOR = 3


class FetchError(Exception):
    """A fetch failed; ``reason`` says why in one sentence for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class FetchedResponse:
    """What a fetch brought back, after redirects."""

    url: str
    status: int
    content: bytes
    content_type: str
    encoding: str | None
    etag: str | None
    last_modified: str | None
    not_modified: bool


@dataclass(frozen=True)
class _Limits:
    """The rules every fetch of one Fetcher follows."""

    timeout: float
    max_bytes: int
    max_redirects: int
    allow_private: bool

    def too_large(self) -> FetchError:
        return FetchError(f"the response is larger than {self.max_bytes:,} bytes")


def canonical_url(url: str) -> str:
    """The URL in one spelling per article, to deduplicate: no tracking, fragment or noise.

    w3lib spells it (lower-case IDNA host, percent-escapes normalised, query sorted, fragment
    dropped) and removes the tracking parameters; which keys track, the default port and the
    trailing slash stay ours: w3lib has no tracker list and keeps ports and slashes as given.
    """
    # Imported here: w3lib brings urllib.request and http.client, which commands that never
    # compare URLs should not load.
    from w3lib.url import canonicalize_url, url_query_cleaner

    url = url.strip()
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    tracking = [key for key, _ in query if _is_tracking(key)]
    cleaned = url_query_cleaner(url, tracking, remove=True, unique=False, keep_fragments=False)
    parts = urlsplit(canonicalize_url(cleaned))  # raises ValueError for a bad port
    path = (parts.path.rstrip("/") or "/") if parts.netloc else parts.path
    return urlunsplit((parts.scheme, _without_default_port(parts), path, parts.query, ""))


def _is_tracking(key: str) -> bool:
    # courlan's tracker pattern was measured and refused: it also strips keys that name an
    # article (?gallery=, ?reference=, ?source=), and two articles merged is one lost.
    return key.lower().startswith("utm_") or key.lower() in TRACKING_PARAMS


def _without_default_port(parts: SplitResult) -> str:
    """The network location, without the scheme's default port."""
    if parts.port is None or DEFAULT_PORTS.get(parts.scheme) != parts.port:
        return parts.netloc
    return parts.netloc.rsplit(":", 1)[0]


# ------------------------------------------------------------------------------ hop checks
def _checked_url(raw: str | httpx.URL) -> httpx.URL:
    """Parse with httpx's own parser (what it connects to is what we check) and check the form."""
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchError(f"the address is not a valid URL ({exc})") from exc
    if url.scheme not in DEFAULT_PORTS:
        raise FetchError("only http and https URLs are allowed")
    if not url.host:
        raise FetchError("the URL has no host name")
    return url


def _redirect_target(current: httpx.URL, location: str | None) -> httpx.URL:
    """The next hop named by a Location header, relative to the current one."""
    if not location:
        raise FetchError("the server redirected without saying where to")
    try:
        target = current.join(location)
    except httpx.InvalidURL as exc:
        raise FetchError(f"the server redirected to an invalid URL ({exc})") from exc
    return _checked_url(target)


# ------------------------------------------------------------------------------ one fetch
def _status_reason(status: int) -> str:
    try:
        return f"the server answered {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"the server answered with status {status}"


class _Body:
    """The response body as it arrives: decoded, and capped in size and time."""

    def __init__(self, limits: _Limits, *, gzipped: bool, deadline: float) -> None:
        self._limits, self._deadline = limits, deadline
        self._decoder = zlib.decompressobj(zlib.MAX_WBITS | 16) if gzipped else None
        self._parts: list[bytes] = []
        self._size = 0
        self._received = False

    def add(self, raw: bytes) -> None:
        """Take one raw chunk; refuse as soon as the decoded body passes the limit."""
        if time.monotonic() > self._deadline:
            total = self._limits.timeout * TOTAL_TIME_FACTOR
            raise FetchError(f"the server did not send the whole response within {total:g} seconds")
        self._received = True
        data = raw
        if self._decoder is not None:
            try:  # at most one byte past the limit per call, so a gzip bomb never fills memory
                data = self._decoder.decompress(raw, self._limits.max_bytes - self._size + 1)
            except zlib.error as exc:
                raise FetchError("the server sent a response that is not valid gzip") from exc
        self._size += len(data)
        if self._size > self._limits.max_bytes:
            raise self._limits.too_large()
        self._parts.append(data)

    def content(self) -> bytes:
        """The whole decoded body."""
        if self._decoder is not None and self._received and not self._decoder.eof:
            raise FetchError("the server sent a gzip response that was cut off")
        return b"".join(self._parts)


class _Trip:
    """One fetch in progress: the current hop, redirects so far, and the cached validators."""

    def __init__(
        self, url: str, limits: _Limits, *, etag: str | None, last_modified: str | None
    ) -> None:
        self.url = _checked_url(url)
        self.limits, self.etag, self.last_modified = limits, etag, last_modified
        self.redirects = 0
        self.deadline = time.monotonic() + limits.timeout * TOTAL_TIME_FACTOR

    @property
    def headers(self) -> dict[str, str]:
        """The conditional-request headers, for the validators we have."""
        headers = {"If-None-Match": self.etag, "If-Modified-Since": self.last_modified}
        return {name: value for name, value in headers.items() if value}

    def follow(self, response: httpx.Response) -> bool:
        """Move to the redirect target if this is a redirect; refuse a chain that is too long."""
        if response.status_code not in REDIRECT_STATUSES:
            return False
        if self.redirects >= self.limits.max_redirects:
            raise FetchError(f"too many redirects (more than {self.limits.max_redirects})")
        self.url = _redirect_target(self.url, response.headers.get("location"))
        self.redirects += 1
        log.debug("redirected to %s", self.url)
        return True

    def open_body(self, response: httpx.Response) -> _Body:
        """Check the status, declared size and encoding before reading a byte."""
        status = response.status_code
        if status != 304 and not 200 <= status < 300:
            raise FetchError(_status_reason(status))
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limits.max_bytes:
            raise self.limits.too_large()
        coding = response.headers.get("content-encoding", "").strip().lower()
        if coding not in ("", "identity", "gzip", "x-gzip"):
            # We ask for gzip only, and decode it ourselves so the size cap holds while decoding.
            raise FetchError(f"the server used an unsupported encoding ({coding})")
        return _Body(self.limits, gzipped="gzip" in coding, deadline=self.deadline)

    def finish(self, response: httpx.Response, content: bytes) -> FetchedResponse:
        """The response as callers see it; a 304 keeps the validators we sent if none came back."""
        not_modified = response.status_code == 304
        etag = response.headers.get("etag") or (self.etag if not_modified else None)
        modified = response.headers.get("last-modified")
        return FetchedResponse(
            url=str(self.url),
            status=response.status_code,
            content=b"" if not_modified else content,
            content_type=response.headers.get("content-type", "").split(";")[0].strip().lower(),
            encoding=response.charset_encoding,
            etag=etag,
            last_modified=modified or (self.last_modified if not_modified else None),
            not_modified=not_modified,
        )


@contextmanager
def _reasons(timeout: float) -> Iterator[None]:
    """Turn httpx's errors into FetchError with a sentence a person can act on."""
    try:
        yield
    except AddressRefused as exc:
        raise FetchError(exc.reason) from exc
    except httpx.TimeoutException as exc:
        raise FetchError(f"the server did not answer within {timeout:g} seconds") from exc
    except httpx.ConnectError as exc:
        raise FetchError(f"could not connect: {str(exc) or 'the connection failed'}") from exc
    except httpx.HTTPError as exc:
        raise FetchError(f"the connection failed: {str(exc) or type(exc).__name__}") from exc


# ------------------------------------------------------------------------------ the fetcher
class Fetcher:
    """Fetches untrusted URLs safely; one connection pool per Fetcher, closed by ``close``."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        max_bytes: int = 5_000_000,
        max_redirects: int = 5,
        allow_private: bool = False,
        user_agent: str = "Parley/0.1 (+news digest bot)",
    ) -> None:
        self._limits = _Limits(timeout, max_bytes, max_redirects, allow_private)
        self._options: dict[str, Any] = {
            "timeout": timeout,
            "follow_redirects": False,  # we follow them ourselves, checking every hop
            "trust_env": False,  # a proxy from the environment would bypass the address checks
            "headers": {"User-Agent": user_agent, "Accept-Encoding": "gzip"},
        }
        self._client: httpx.Client | None = None
        self._async_client: httpx.AsyncClient | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None

    def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchedResponse:
        """Fetch ``url``, following checked redirects; conditional when validators are given."""
        trip = _Trip(url, self._limits, etag=etag, last_modified=last_modified)
        self._client = self._client or httpx.Client(**self._options, **self._guard(async_=False))
        with _reasons(self._limits.timeout):
            while True:
                with self._client.stream("GET", trip.url, headers=trip.headers) as response:
                    if trip.follow(response):
                        continue
                    body = trip.open_body(response)
                    for chunk in response.iter_raw():
                        body.add(chunk)
                    return trip.finish(response, body.content())

    async def fetch_async(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchedResponse:
        """The async twin of ``fetch``, for use inside the bot's event loop."""
        trip = _Trip(url, self._limits, etag=etag, last_modified=last_modified)
        client = self._client_for_this_loop()
        with _reasons(self._limits.timeout):
            while True:
                async with client.stream("GET", trip.url, headers=trip.headers) as response:
                    if trip.follow(response):
                        continue
                    body = trip.open_body(response)
                    async for chunk in response.aiter_raw():
                        body.add(chunk)
                    return trip.finish(response, body.content())

    def _guard(self, *, async_: bool) -> dict[str, Any]:
        """The transport that checks every address connected to (redirects included), unless
        private addresses are allowed."""
        if self._limits.allow_private:
            return {}
        return {"transport": AsyncGuardedTransport() if async_ else GuardedTransport()}

    def _client_for_this_loop(self) -> httpx.AsyncClient:
        """The async client of the running loop: a pool's connections belong to one loop, and
        the command line runs a fresh loop per command."""
        loop = asyncio.get_running_loop()
        if self._async_client is None or self._async_loop is not loop:
            self._async_client = httpx.AsyncClient(**self._options, **self._guard(async_=True))
            self._async_loop = loop
        return self._async_client

    def close(self) -> None:
        """Close the sync connection pool (the async one needs ``aclose``)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        """Close both connection pools."""
        if self._async_client is not None:
            await self._async_client.aclose()
            self._async_client = None
        self.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
