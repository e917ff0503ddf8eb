"""PersistedQueries and its document cache as plain Python, without HTTP: what is prepared
once and where, what the cache keeps (second sightings, weight), what it counts per client."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from execution.cache import document_weight
from execution.documents import PreparedDocument, prepare, sha256_hex
from server.offload import Offload
from server.persisted.policy import ClientPolicy, Mode
from server.persisted.queries import DocumentCache, PersistedQueries, Refusal
from server.persisted.store import LocalStore

MIB = 2**20
QUERY = "query Viewer { viewer { username } }"
HASH = sha256_hex(QUERY)


@pytest.fixture
def offload() -> Iterator[Offload]:
    """A thread for document work, stopped at the end."""
    made = Offload()
    yield made
    made.close()


async def test_persisted_documents_are_parsed_and_validated_once(offload: Offload) -> None:
    cache = DocumentCache(MIB, offload)
    first = await cache.get(QUERY, persisted=True)
    assert first.valid
    assert await cache.get(QUERY, persisted=True) is first
    assert await cache.get(QUERY, persisted=False) is first
    invalid = await cache.get("{ nope }", persisted=True)
    assert not invalid.valid
    assert await cache.get("{ nope }", persisted=True) is not invalid  # invalid ones: not kept


async def test_plain_text_is_kept_on_its_second_sighting(offload: Offload) -> None:
    """Texts that vary per request never fill the cache."""
    cache = DocumentCache(MIB, offload)
    for i in range(100):
        await cache.get(f"query Once {{ pins(first: {i + 1}) {{ totalCount }} }}", persisted=False)
    assert len(cache) == 0
    once = await cache.get(QUERY, persisted=False)
    twice = await cache.get(QUERY, persisted=False)
    assert twice is not once
    assert await cache.get(QUERY, persisted=False) is twice
    assert len(cache) == 1


async def test_the_document_cache_is_bounded_by_what_its_documents_weigh(
    offload: Offload,
) -> None:
    one = document_weight(prepare("query Q0 { viewer { id } }"))
    cache = DocumentCache(2 * one, offload)
    documents = [
        await cache.get(f"query Q{i} {{ viewer {{ id }} }}", persisted=True) for i in range(3)
    ]
    assert await cache.get("query Q2 { viewer { id } }", persisted=True) is documents[2]
    assert await cache.get("query Q0 { viewer { id } }", persisted=True) is not documents[0]
    assert len(cache) == 2 and cache.weight == 2 * one
    # heavier than two (a comment weighs its text: a byte a character): not kept
    padded = f"# {'x' * 2 * one}\nquery Q1 {{ viewer {{ id }} }}"
    assert (await cache.get(padded, persisted=True)).valid
    assert len(cache) == 2 and cache.kept(sha256_hex(padded)) is None


async def test_an_id_whose_document_left_the_cache_is_found_in_the_store_again(
    tmp_path: Any, offload: Offload
) -> None:
    persisted = PersistedQueries(
        LocalStore(tmp_path, 3600),
        lambda name: ClientPolicy(),
        max_bytes=document_weight(prepare(QUERY)),  # room for one document
        offload=offload,
    )
    other = "query Other { viewer { id } }"
    first = await persisted.resolve_apq("web", HASH, QUERY)
    assert isinstance(first, PreparedDocument)
    assert isinstance(
        await persisted.resolve_apq("web", sha256_hex(other), other), PreparedDocument
    )
    assert persisted.documents.kept(HASH) is None  # pushed out by the other
    again = await persisted.resolve_apq("web", HASH, None)
    assert isinstance(again, PreparedDocument) and again.text == QUERY and again is not first
    assert persisted.stats.of("web") == {"miss": 2, "apq_stored": 2, "hit_store": 1}


async def test_a_document_is_prepared_once_off_the_event_loop(offload: Offload) -> None:
    """Requests that bring the same new text at once share one preparation, made on the
    offload thread, never on the loop's."""
    threads: list[str] = []

    def prepare_here(text: str, sha256: str | None = None) -> PreparedDocument:
        threads.append(threading.current_thread().name)
        return prepare(text, sha256)

    cache = DocumentCache(MIB, offload, prepare_here)
    got = await asyncio.gather(*(cache.get(QUERY, persisted=True) for _ in range(5)))
    assert all(g is got[0] for g in got) and got[0].valid
    assert len(threads) == 1 and threads[0].startswith("pinql-documents")


async def test_counts_per_client_are_kept_in_one_place(tmp_path: Any) -> None:
    """PersistedQueries is plain Python: usable without HTTP, its counts read by metrics."""
    policies = {"locked": ClientPolicy(mode=Mode.SAFELIST)}
    offload = Offload()
    persisted = PersistedQueries(
        LocalStore(tmp_path, 3600),
        lambda name: policies.get(name, ClientPolicy()),
        max_bytes=MIB,
        offload=offload,
    )
    assert isinstance(await persisted.resolve_apq("web", HASH, None), Refusal)  # miss
    assert not isinstance(await persisted.resolve_apq("web", HASH, QUERY), Refusal)  # stored
    assert not isinstance(await persisted.resolve_apq("web", HASH, None), Refusal)  # local hit
    assert isinstance(await persisted.resolve_text("locked", QUERY), Refusal)  # refused
    assert persisted.stats.of("web") == {"miss": 2, "apq_stored": 1, "hit_local": 1}
    assert persisted.stats.of("locked") == {"miss": 1, "refused": 1}
    offload.close()
