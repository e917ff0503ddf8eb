"""GraphiQL is served whole by the app: no CDN, every file present and byte-identical to npm's."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import httpx
import pytest

from server.graphiql import (
    MANIFEST,
    STATIC_DIR,
    STATIC_PREFIX,
    graphiql_html,
    read_manifest,
)
from tests.support import GraphQLClient

# Any src= or href= attribute value, quoted or not.
URL_ATTRIBUTE = re.compile(r"""\b(?:src|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


class _Assets(HTMLParser):
    """Collects (url, integrity, kind) of each <script src> and <link rel=stylesheet>."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str | None, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.found.append((a["src"] or "", a.get("integrity"), "javascript"))
        elif tag == "link" and a.get("rel") == "stylesheet":
            self.found.append((a.get("href") or "", a.get("integrity"), "css"))


def _assets(page: str) -> list[tuple[str, str | None, str]]:
    parser = _Assets()
    parser.feed(page)
    return parser.found


@pytest.fixture(scope="module")
def client(world_client: GraphQLClient) -> httpx.AsyncClient:
    """The real app, as a browser reaches it."""
    return world_client.http


@pytest.fixture(scope="module")
async def page(client: httpx.AsyncClient) -> str:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    text: str = response.text
    return text


def test_page_loads_nothing_from_another_origin(page: str) -> None:
    urls = [next(g for g in m.groups() if g is not None) for m in URL_ATTRIBUTE.finditer(page)]
    assert len(urls) == 8  # 5 scripts, 2 stylesheets, the icon
    remote = [u for u in urls if not (u.startswith(STATIC_PREFIX + "/") or u.startswith("data:"))]
    assert remote == []
    assert re.findall(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", page, re.I) == []


async def test_every_script_and_stylesheet_is_served_with_its_type(
    page: str, client: httpx.AsyncClient
) -> None:
    assets = _assets(page)
    assert [kind for _, _, kind in assets].count("javascript") == 5
    assert [kind for _, _, kind in assets].count("css") == 2
    for url, _, kind in assets:
        response = await client.get(url)
        assert response.status_code == 200, url
        assert kind in response.headers["content-type"], (url, response.headers["content-type"])


async def test_served_bytes_match_manifest_and_integrity(
    page: str, client: httpx.AsyncClient
) -> None:
    sha256_by_url = {f.url: f.sha256 for f in read_manifest()}
    for url, integrity, _ in _assets(page):
        served = (await client.get(url)).content
        assert hashlib.sha256(served).hexdigest() == sha256_by_url[url], url
        sha384 = base64.b64encode(hashlib.sha384(served).digest()).decode()
        assert integrity == f"sha384-{sha384}", url


def test_manifest_lists_exactly_the_files_present_and_the_page_loads_them_all(page: str) -> None:
    present = {
        p.relative_to(STATIC_DIR).as_posix()
        for p in STATIC_DIR.rglob("*")
        if p.is_file() and p != MANIFEST
    }
    listed = [f.file for f in read_manifest()]
    assert sorted(listed) == sorted(present)
    assert {url for url, _, _ in _assets(page)} == {f"{STATIC_PREFIX}/{f}" for f in listed}


def test_manifest_records_where_each_file_came_from() -> None:
    for f in read_manifest():
        assert f.file == f"{f.package}@{f.version}/{f.path}"
        assert re.fullmatch(r"sha512-[A-Za-z0-9+/]{86}==", f.integrity), f
        assert re.fullmatch(r"[0-9a-f]{64}", f.sha256), f


def test_page_posts_to_the_given_endpoint_and_shows_a_pins_query() -> None:
    page = graphiql_html("/api/graphql")
    assert "<title>pinql GraphiQL</title>" in page
    assert 'const ENDPOINT = "/api/graphql";' in page
    assert "pins(first: 10)" in page
    assert "Bearer \\u003ctoken from ./scripts/serve>" in page
    assert "subscriptionUrl" not in page


def test_endpoint_cannot_close_the_script_tag() -> None:
    page = graphiql_html('/x</script><script>alert("x")</script>')
    assert page.count("</script>") == graphiql_html().count("</script>")
