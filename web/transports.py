"""httpx transports whose sockets go only to checked public addresses (web.addresses).

httpx's own transports build their httpcore connection pool themselves and take no network
backend (asked for upstream: encode/httpx discussion 3180, pull request 3749), so these are
httpx custom transports, its public `BaseTransport` API, around an httpcore pool built with
the guarded backend: a request goes to the pool as httpcore's, the response comes back as
httpx's, and httpcore's errors come back as httpx's, as the built-in transports do. Only
public names of both libraries are used, so an httpx release that rearranges its internals
cannot quietly bypass the guard.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from typing import TypedDict

import httpcore
import httpx

from web.addresses import AsyncGuardedBackend, GuardedBackend

# httpx's default pool limits.
MAX_CONNECTIONS = 100
MAX_KEEPALIVE_CONNECTIONS = 20
KEEPALIVE_EXPIRY = 5.0

# Each httpcore error and the httpx error it becomes, the most specific first: the first
# that matches is raised. Anything else (the guard's AddressRefused) passes through as it is.
ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def httpx_errors() -> Iterator[None]:
    """Raise httpcore's errors as the httpx errors callers catch."""
    try:
        yield
    except Exception as error:
        for source, target in ERRORS:
            if isinstance(error, source):
                raise target(str(error)) from error
        raise


def core_request(request: httpx.Request) -> httpcore.Request:
    """The request as httpcore takes it; its extensions carry the timeouts."""
    return httpcore.Request(
        method=request.method,
        url=httpcore.URL(
            scheme=request.url.raw_scheme,
            host=request.url.raw_host,
            port=request.url.port,
            target=request.url.raw_path,
        ),
        headers=request.headers.raw,
        content=request.stream,
        extensions=request.extensions,
    )


def httpx_response(
    response: httpcore.Response, body: httpx.SyncByteStream | httpx.AsyncByteStream
) -> httpx.Response:
    """httpcore's response as httpx's, its body read through ``body``."""
    return httpx.Response(
        status_code=response.status,
        headers=response.headers,
        stream=body,
        extensions=response.extensions,
    )


class PoolOptions(TypedDict):
    """What both pools are built with besides their backend: httpx's defaults."""

    ssl_context: ssl.SSLContext
    max_connections: int
    max_keepalive_connections: int
    keepalive_expiry: float


def pool_options() -> PoolOptions:
    return PoolOptions(
        ssl_context=httpx.create_ssl_context(),
        max_connections=MAX_CONNECTIONS,
        max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
        keepalive_expiry=KEEPALIVE_EXPIRY,
    )


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with httpx_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class GuardedTransport(httpx.BaseTransport):
    """An httpx transport that connects only to public addresses."""

    def __init__(self) -> None:
        self._pool = httpcore.ConnectionPool(network_backend=GuardedBackend(), **pool_options())

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with httpx_errors():
            response = self._pool.handle_request(core_request(request))
        assert isinstance(response.stream, Iterable)  # a sync pool's body
        return httpx_response(response, _Body(response.stream))

    def close(self) -> None:
        self._pool.close()


class AsyncGuardedTransport(httpx.AsyncBaseTransport):
    """The async twin of ``GuardedTransport``."""

    def __init__(self) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            network_backend=AsyncGuardedBackend(), **pool_options()
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        with httpx_errors():
            response = await self._pool.handle_async_request(core_request(request))
        assert isinstance(response.stream, AsyncIterable)  # an async pool's body
        return httpx_response(response, _AsyncBody(response.stream))

    async def aclose(self) -> None:
        await self._pool.aclose()
