"""No fetch ever reaches an internal address: not through a second DNS answer, another spelling
of the name, or a redirect. Offline: a fake internet answers DNS from a table and carries the
one "public" address it knows to a local server; every other connection is a real one."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from tests.support.web_server import WebServer
from web.fetching import Fetcher, FetchError

PUBLIC_IP = "93.184.216.34"  # never contacted: the fake internet carries it to `public_site`
INTERNAL = "is private or internal, and private sources are not allowed"


@dataclass
class FakeInternet:
    """What the resolver answers and where connections go, and a record of both."""

    public_port: int
    answers: dict[str, list[list[str]]] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)
    connects: list[str] = field(default_factory=list)

    def name(self, host: str, *answers: list[str]) -> None:
        """``host`` resolves to each answer in turn, then keeps giving the last one."""
        self.answers[host] = list(answers)

    def resolve(self, host: str) -> list[str]:
        self.lookups.append(host)
        answers = self.answers[host]
        return answers.pop(0) if len(answers) > 1 else answers[0]

    def dial(self, address: str, port: int) -> tuple[str, int]:
        """Where a connection to ``address`` really goes: the public site, or a loopback
        server; never out to the real internet."""
        self.connects.append(address)
        if address == PUBLIC_IP:
            return "127.0.0.1", self.public_port
        ip = ipaddress.ip_address(address)
        if not (getattr(ip, "ipv4_mapped", None) or ip).is_loopback:
            raise ConnectionRefusedError(f"the fake internet does not reach {address}")
        return address, port


@pytest.fixture
def internal_site() -> Iterator[WebServer]:
    """A server on 127.0.0.1 that no fetch may reach."""
    with WebServer() as server:
        yield server


@pytest.fixture
def public_site() -> Iterator[WebServer]:
    """The server the fake internet puts behind PUBLIC_IP."""
    with WebServer() as server:
        yield server


@pytest.fixture
def internet(public_site: WebServer, monkeypatch: pytest.MonkeyPatch) -> FakeInternet:
    fake = FakeInternet(public_port=int(public_site.url.rsplit(":", 1)[1]))
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.create_connection
    real_anyio_connect = anyio.connect_tcp

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        # As the socket module does with a str: IDNA 2003 (straße -> strasse).
        name = host.encode("idna").decode("ascii") if isinstance(host, str) else host.decode()
        if name not in fake.answers:
            if name != "localhost" and not is_ip_literal(name):
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return real_getaddrinfo(host, port, *args, **kwargs)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in fake.resolve(name)
        ]

    def first_address(host: str, port: int) -> str:
        # Names are resolved as the real connect would, through the (fake) resolver.
        return str(getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4][0])

    def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        host, port = address
        return real_connect(fake.dial(first_address(host, port), port), *args, **kwargs)

    async def connect_tcp(remote_host: str, remote_port: int, **kwargs: Any) -> Any:
        host, port = fake.dial(first_address(remote_host, remote_port), remote_port)
        return await real_anyio_connect(remote_host=host, remote_port=port, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(anyio, "connect_tcp", connect_tcp)
    return fake


def is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name.isdigit()  # 2130706433: an IPv4 address as one number
    return True


def port_of(site: WebServer) -> int:
    return int(site.url.rsplit(":", 1)[1])


def refusal(url: str) -> str:
    with Fetcher(timeout=5) as fetcher, pytest.raises(FetchError) as refused:
        fetcher.fetch(url)
    return refused.value.reason


def test_public_name_is_fetched_from_the_address_that_was_checked(
    internet: FakeInternet, public_site: WebServer
) -> None:
    public_site.add("/story", b"Talks resume")
    internet.name("news.test", [PUBLIC_IP])

    with Fetcher(timeout=5) as fetcher:
        page = fetcher.fetch(f"http://news.test:{port_of(public_site)}/story")

    assert page.content == b"Talks resume"
    assert internet.lookups == ["news.test"]  # one answer, checked and used
    assert internet.connects == [PUBLIC_IP]
    [request] = public_site.requests
    assert request.headers["host"] == f"news.test:{port_of(public_site)}"


def test_a_second_dns_answer_never_leads_to_an_internal_address(
    internet: FakeInternet, public_site: WebServer, internal_site: WebServer
) -> None:
    # DNS rebinding: public when asked first, loopback on every later question.
    public_site.add("/story", b"public")
    internal_site.add("/story", b"internal secrets")
    internet.name("rebind.test", [PUBLIC_IP], ["127.0.0.1"])

    with Fetcher(timeout=5) as fetcher:
        page = fetcher.fetch(f"http://rebind.test:{port_of(internal_site)}/story")

    assert page.content == b"public"
    assert internal_site.requests == []
    assert "127.0.0.1" not in internet.connects


async def test_a_second_dns_answer_never_leads_to_an_internal_address_async(
    internet: FakeInternet, public_site: WebServer, internal_site: WebServer
) -> None:
    public_site.add("/story", b"public")
    internal_site.add("/story", b"internal secrets")
    internet.name("rebind.test", [PUBLIC_IP], ["127.0.0.1"])

    async with Fetcher(timeout=5) as fetcher:
        page = await fetcher.fetch_async(f"http://rebind.test:{port_of(internal_site)}/story")

    assert page.content == b"public"
    assert internal_site.requests == []


def test_the_name_checked_is_the_name_connected_to_whatever_its_spelling(
    internet: FakeInternet, internal_site: WebServer
) -> None:
    # IDNA 2003 reads straße as strasse, IDNA 2008 (what goes on the wire) as xn--strae-oqa.
    internal_site.add("/story", b"internal secrets")
    internet.name("strasse.test", [PUBLIC_IP])
    internet.name("xn--strae-oqa.test", ["127.0.0.1"])

    reason = refusal(f"http://straße.test:{port_of(internal_site)}/story")

    assert reason == f"the address xn--strae-oqa.test (127.0.0.1) {INTERNAL}"
    assert internal_site.requests == []
    assert internet.lookups == ["xn--strae-oqa.test"]


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:{port}/admin",
        "http://localhost:{port}/admin",
        "http://[::ffff:127.0.0.1]:{port}/admin",
        "http://2130706433:{port}/admin",  # 127.0.0.1 as one decimal number
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "//intranet.test:{port}/admin",  # scheme-relative, to a name that resolves inside
    ],
)
def test_a_redirect_to_an_internal_address_is_refused_before_connecting(
    internet: FakeInternet, public_site: WebServer, internal_site: WebServer, location: str
) -> None:
    internal_site.add("/admin", b"internal secrets")
    internet.name("news.test", [PUBLIC_IP])
    internet.name("intranet.test", ["10.0.0.5", "127.0.0.1"])
    public_site.redirect("/story", location.format(port=port_of(internal_site)))

    reason = refusal(f"http://news.test:{port_of(public_site)}/story")

    assert INTERNAL in reason
    assert [request.path for request in public_site.requests] == ["/story"]
    assert internal_site.requests == []
    assert internet.connects == [PUBLIC_IP]  # the internal hop was never dialled


def test_a_name_that_does_not_resolve_is_reported(internet: FakeInternet) -> None:
    assert refusal("http://gone.test/") == "could not find the server gone.test"


def test_a_public_server_that_does_not_answer_in_time_is_reported_as_slow(
    internet: FakeInternet, public_site: WebServer
) -> None:
    public_site.add("/slow", b"late", delay=3)
    internet.name("slow.test", [PUBLIC_IP])

    with Fetcher(timeout=0.5) as fetcher, pytest.raises(FetchError) as failed:
        fetcher.fetch(f"http://slow.test:{port_of(public_site)}/slow")

    assert failed.value.reason == "the server did not answer within 0.5 seconds"


async def test_a_public_address_that_refuses_the_connection_is_reported(
    internet: FakeInternet,
) -> None:
    internet.name("down.test", ["8.8.8.8", "1.1.1.1"])  # public; the fake internet refuses both

    async with Fetcher(timeout=5) as fetcher:
        with pytest.raises(FetchError) as failed:
            await fetcher.fetch_async("http://down.test/")

    assert failed.value.reason.startswith("could not connect: ")
    assert internet.connects == ["8.8.8.8", "1.1.1.1"]  # each address tried in turn
