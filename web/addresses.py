"""Which addresses a fetch may reach, checked at the moment of connecting.

The name is resolved once, every address it resolves to is checked, and the connection goes to
a checked address: a second DNS answer (rebinding) or another spelling of the name (IDNA 2003
against 2008, `straße.de`) can never lead it elsewhere. TLS still names the host (SNI) and so
does the Host header: only the socket is pointed at the address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import TypeVar

import anyio.to_thread
import httpcore

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Stream = TypeVar("Stream")
SocketOptions = Iterable[httpcore.SOCKET_OPTION] | None


class AddressRefused(Exception):
    """No connection was made to a host; ``reason`` says why in one sentence for a person."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one merely carries (mapped, 6to4 or NAT64), whose rules apply."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in _NAT64 else None


def is_internal(ip: IPAddress) -> bool:
    """True unless the address is ordinary public unicast."""
    if isinstance(ip, ipaddress.IPv6Address) and (embedded := _embedded_ipv4(ip)) is not None:
        return is_internal(embedded)
    # is_global alone misses multicast (224.0.0.0/4 counts as global), hence the explicit checks.
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_addresses(host: str, addresses: Iterable[str]) -> None:
    """Refuse the host if ANY of its addresses is internal: connecting may pick any of them."""
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 scope id
        if is_internal(ip):
            name = host if host == str(ip) else f"{host} ({ip})"
            raise AddressRefused(
                f"the address {name} is private or internal, and private sources are not allowed"
            )


def public_addresses(host: str, port: int) -> list[str]:
    """Resolve ``host`` (as it goes on the wire: ASCII, IDNA 2008) once; its addresses, in
    the resolver's order, when every one of them is public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise AddressRefused(f"could not find the server {host}") from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise AddressRefused(f"could not find the server {host}")
    check_addresses(host, addresses)
    return addresses


def _first_that_connects(addresses: list[str], connect: Callable[[str], Stream]) -> Stream:
    """Connect to the first address that answers, as ``socket.create_connection`` would."""
    for address in addresses[:-1]:
        try:
            return connect(address)
        except httpcore.ConnectError:
            continue
    return connect(addresses[-1])


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, connecting only to checked public addresses."""

    def __init__(self) -> None:
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.NetworkStream:
        addresses = public_addresses(host, port)
        return _first_that_connects(
            addresses,
            lambda ip: self._sockets.connect_tcp(ip, port, timeout, local_address, socket_options),
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: SocketOptions = None
    ) -> httpcore.NetworkStream:
        raise AddressRefused("only http and https URLs are allowed")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


class AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    """The async twin of ``GuardedBackend``; name resolution runs on a worker thread."""

    def __init__(self) -> None:
        self._sockets = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: SocketOptions = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await anyio.to_thread.run_sync(public_addresses, host, port)
        for address in addresses[:-1]:
            try:
                return await self._sockets.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError:
                continue
        return await self._sockets.connect_tcp(
            addresses[-1], port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: SocketOptions = None
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("only http and https URLs are allowed")

    async def sleep(self, seconds: float) -> None:
        await self._sockets.sleep(seconds)
