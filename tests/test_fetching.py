"""The safe fetcher, through real HTTP to a local server; nothing here touches the internet."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest

from tests.support.web_server import WebServer, unused_port
from web.addresses import AddressRefused, check_addresses
from web.fetching import Fetcher, FetchError, canonical_url

PRIVATE_REFUSAL = "the address {} is private or internal, and private sources are not allowed"


@pytest.fixture
def server() -> Iterator[WebServer]:
    with WebServer() as running:
        yield running


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    """A fetcher that may reach the local server (private addresses allowed)."""
    with Fetcher(allow_private=True, timeout=5.0) as local:
        yield local


def refusal(fetcher: Fetcher, url: str) -> str:
    """The reason the fetcher gives for refusing ``url``."""
    with pytest.raises(FetchError) as refused:
        fetcher.fetch(url)
    return refused.value.reason


# ------------------------------------------------------------------------------ fetching pages
def test_fetches_a_page_with_its_content_type_and_encoding(
    server: WebServer, fetcher: Fetcher
) -> None:
    url = server.add("/story", "<p>Talks resume in Genève</p>".encode())

    page = fetcher.fetch(url)

    assert page.url == url
    assert page.status == 200
    assert page.content == "<p>Talks resume in Genève</p>".encode()
    assert page.content_type == "text/html"
    assert page.encoding == "utf-8"
    assert not page.not_modified


def test_follows_a_redirect_chain_and_reports_the_final_url(
    server: WebServer, fetcher: Fetcher
) -> None:
    final = server.add("/final", b"here")
    server.redirect("/middle", "/final", status=301)
    start = server.redirect("/start", f"{server.url}/middle")

    page = fetcher.fetch(start)

    assert page.url == final
    assert page.content == b"here"
    assert [request.path for request in server.requests] == ["/start", "/middle", "/final"]


def test_server_sees_our_user_agent_and_gzip_support(server: WebServer, fetcher: Fetcher) -> None:
    url = server.add("/story", b"text")

    fetcher.fetch(url)

    [request] = server.requests
    assert request.headers["user-agent"] == "Parley/0.1 (+news digest bot)"
    assert request.headers["accept-encoding"] == "gzip"


def test_gzip_body_is_decoded(server: WebServer, fetcher: Fetcher) -> None:
    text = b"Ceasefire talks continue. " * 500
    url = server.add("/zipped", text, gzip=True)

    assert fetcher.fetch(url).content == text


# ------------------------------------------------------------------------------ conditional GET
def test_matching_etag_gives_not_modified_with_empty_content(
    server: WebServer, fetcher: Fetcher
) -> None:
    url = server.add("/feed", b"<rss/>", etag='"v1"')
    first = fetcher.fetch(url)

    again = fetcher.fetch(url, etag=first.etag)

    assert first.etag == '"v1"'
    assert again.not_modified
    assert again.status == 304
    assert again.content == b""
    assert again.etag == '"v1"'
    assert server.requests[-1].headers["if-none-match"] == '"v1"'


def test_matching_last_modified_gives_not_modified(server: WebServer, fetcher: Fetcher) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    url = server.add("/feed", b"<rss/>", last_modified=stamp)

    again = fetcher.fetch(url, last_modified=stamp)

    assert again.not_modified
    assert again.last_modified == stamp
    assert server.requests[-1].headers["if-modified-since"] == stamp


def test_changed_resource_is_fetched_in_full_despite_an_old_etag(
    server: WebServer, fetcher: Fetcher
) -> None:
    url = server.add("/feed", b"<rss>new</rss>", etag='"v2"')

    page = fetcher.fetch(url, etag='"v1"')

    assert not page.not_modified
    assert page.content == b"<rss>new</rss>"
    assert page.etag == '"v2"'


# ------------------------------------------------------------------------------ limits and errors
def test_oversized_stream_is_refused_without_downloading_it_all(server: WebServer) -> None:
    url = server.stream("/huge", size=50_000_000)  # chunked: no Content-Length to go by

    with Fetcher(allow_private=True, max_bytes=1_000_000) as fetcher:
        assert refusal(fetcher, url) == "the response is larger than 1,000,000 bytes"


def test_declared_oversize_is_refused_before_reading_the_body(server: WebServer) -> None:
    url = server.stream("/huge", size=50_000_000, declare_length=True)

    with Fetcher(allow_private=True, max_bytes=1_000_000) as fetcher:
        assert refusal(fetcher, url) == "the response is larger than 1,000,000 bytes"


def test_gzip_bomb_is_refused_by_its_decoded_size(server: WebServer) -> None:
    bomb = gzip.compress(bytes(50_000_000))  # about 50 KB on the wire
    url = server.add("/bomb", bomb, headers={"Content-Encoding": "gzip"})

    with Fetcher(allow_private=True, max_bytes=1_000_000) as fetcher:
        assert refusal(fetcher, url) == "the response is larger than 1,000,000 bytes"


def test_slow_server_beyond_the_timeout_is_reported(server: WebServer) -> None:
    url = server.add("/slow", b"late", delay=5)

    with Fetcher(allow_private=True, timeout=0.5) as fetcher:
        assert refusal(fetcher, url) == "the server did not answer within 0.5 seconds"


def test_too_many_redirects_are_refused(server: WebServer) -> None:
    url = server.redirect("/loop", "/loop")

    with Fetcher(allow_private=True, max_redirects=3) as fetcher:
        assert refusal(fetcher, url) == "too many redirects (more than 3)"
    assert len(server.requests) == 4


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (404, "the server answered 404 Not Found"),
        (503, "the server answered 503 Service Unavailable"),
        (599, "the server answered with status 599"),
    ],
)
def test_error_status_is_named_in_the_reason(
    server: WebServer, fetcher: Fetcher, status: int, reason: str
) -> None:
    url = server.add("/page", b"sorry", status=status)

    assert refusal(fetcher, url) == reason


def test_unknown_path_is_not_found(server: WebServer, fetcher: Fetcher) -> None:
    assert refusal(fetcher, f"{server.url}/nowhere") == "the server answered 404 Not Found"


def test_connection_refused_is_reported(fetcher: Fetcher) -> None:
    reason = refusal(fetcher, f"http://127.0.0.1:{unused_port()}/")

    assert reason.startswith("could not connect: ")


# ------------------------------------------------------------------------------ what may be fetched
@pytest.mark.parametrize(
    "url", ["ftp://example.com/file.txt", "file:///etc/passwd", "javascript:alert(1)"]
)
def test_only_http_and_https_are_allowed(url: str) -> None:
    with Fetcher() as fetcher:
        assert refusal(fetcher, url) == "only http and https URLs are allowed"


@pytest.mark.parametrize("url", ["http:///path", "https://"])
def test_url_without_a_host_is_refused(url: str) -> None:
    with Fetcher() as fetcher:
        assert refusal(fetcher, url) == "the URL has no host name"


def test_redirect_to_a_file_url_is_refused(server: WebServer, fetcher: Fetcher) -> None:
    url = server.redirect("/sneaky", "file:///etc/passwd")

    assert refusal(fetcher, url) == "only http and https URLs are allowed"


def test_loopback_address_is_refused_before_connecting(server: WebServer) -> None:
    url = server.add("/story", b"internal")

    with Fetcher() as fetcher:
        assert refusal(fetcher, url) == PRIVATE_REFUSAL.format("127.0.0.1")
    assert server.requests == []


def test_name_resolving_to_loopback_is_refused_before_connecting(server: WebServer) -> None:
    url = server.add("/story", b"internal").replace("127.0.0.1", "localhost")

    with Fetcher() as fetcher:
        reason = refusal(fetcher, url)

    assert reason.startswith("the address localhost (")
    assert reason.endswith("is private or internal, and private sources are not allowed")
    assert server.requests == []


# Redirects to internal addresses, DNS rebinding and IDNA spellings: tests/test_ssrf.py.
@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "224.0.0.1",  # multicast counts as "global" to the ipaddress module
        "255.255.255.255",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",  # IPv4-mapped
        "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 wrapping 10.0.0.1
    ],
)
def test_internal_addresses_are_refused(address: str) -> None:
    with pytest.raises(AddressRefused):
        check_addresses("source.example", [address])


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    check_addresses("source.example", [address])


def test_host_with_any_internal_address_is_refused() -> None:
    with pytest.raises(AddressRefused) as refused:
        check_addresses("mixed.example", ["93.184.216.34", "10.0.0.7"])

    assert refused.value.reason == PRIVATE_REFUSAL.format("mixed.example (10.0.0.7)")


# ------------------------------------------------------------------------------ async
async def test_fetch_async_follows_redirects_and_decodes_gzip(server: WebServer) -> None:
    final = server.add("/final", b"Talks resume. " * 100, gzip=True)
    start = server.redirect("/start", "/final")

    async with Fetcher(allow_private=True) as fetcher:
        page = await fetcher.fetch_async(start)

    assert page.url == final
    assert page.content == b"Talks resume. " * 100


async def test_fetch_async_gives_not_modified_for_a_matching_etag(server: WebServer) -> None:
    url = server.add("/feed", b"<rss/>", etag='"v1"')

    async with Fetcher(allow_private=True) as fetcher:
        page = await fetcher.fetch_async(url, etag='"v1"')

    assert page.not_modified
    assert page.content == b""


async def test_fetch_async_refuses_loopback_before_connecting(server: WebServer) -> None:
    url = server.add("/story", b"internal")

    async with Fetcher() as fetcher:
        with pytest.raises(FetchError) as refused:
            await fetcher.fetch_async(url)

    assert refused.value.reason == PRIVATE_REFUSAL.format("127.0.0.1")
    assert server.requests == []


async def test_fetch_async_refuses_an_oversized_stream(server: WebServer) -> None:
    url = server.stream("/huge", size=50_000_000)

    async with Fetcher(allow_private=True, max_bytes=1_000_000) as fetcher:
        with pytest.raises(FetchError) as refused:
            await fetcher.fetch_async(url)

    assert refused.value.reason == "the response is larger than 1,000,000 bytes"


async def test_fetch_async_reports_a_slow_server(server: WebServer) -> None:
    url = server.add("/slow", b"late", delay=5)

    async with Fetcher(allow_private=True, timeout=0.5) as fetcher:
        with pytest.raises(FetchError) as refused:
            await fetcher.fetch_async(url)

    assert refused.value.reason == "the server did not answer within 0.5 seconds"


# ------------------------------------------------------------------------------ canonical_url
@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTPS://News.Example.COM:443/World/Talks/?utm_source=rss&b=2&a=1&fbclid=x#comments",
            "https://news.example.com/World/Talks?a=1&b=2",
        ),
        ("http://example.com:80/", "http://example.com/"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:8080/a/", "http://example.com:8080/a"),
        ("https://example.com/?ref=rss&UTM_Campaign=spring", "https://example.com/"),
        (
            "https://example.com/p?q=&gclid=1&spm=2&mc_cid=3&mc_eid=4&igshid=5&_ga=6&yclid=7"
            "&ref_src=8",
            "https://example.com/p?q=",
        ),
        ("http://[2001:DB8::1]:80/x", "http://[2001:db8::1]/x"),
        ("https://example.com/search?b=2&a=2&a=1", "https://example.com/search?a=1&a=2&b=2"),
        ("https://example.com/news/café?fbclid=", "https://example.com/news/caf%C3%A9"),
        ("https://example.com/news/caf%c3%a9/%7Eteam", "https://example.com/news/caf%C3%A9/~team"),
        ("https://Bücher.example/talks", "https://xn--bcher-kva.example/talks"),
        ("https://user@Example.com:443/x/", "https://user@example.com/x"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_canonical_url_makes_tracked_and_plain_links_equal() -> None:
    shared = "https://www.example.com/news/talks-resume/?utm_medium=social&fbclid=abc#top"

    assert canonical_url(shared) == canonical_url("https://www.example.com/news/talks-resume")


@pytest.mark.parametrize("key", ["gallery", "reference", "source", "page", "id", "p"])
def test_canonical_url_keeps_query_keys_that_name_an_article(key: str) -> None:
    first, second = (f"https://example.com/story?{key}={n}" for n in (1, 2))

    assert canonical_url(first) != canonical_url(second)


@pytest.mark.parametrize("url", ["http://example.com:99999/x", "http://example.com:abc/x"])
def test_canonical_url_refuses_a_bad_port(url: str) -> None:
    with pytest.raises(ValueError):
        canonical_url(url)
