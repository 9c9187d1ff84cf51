"""The Chroma client on a real Chroma server: one database per tenant, collections by name."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from agenthub.errors import ServiceUnavailableError
from agenthub.knowledge.chroma import ChromaClient, VectorRecord, database_for

pytest_plugins = ["tests.integration.knowledge_fixtures"]


@pytest.fixture
def client(chroma_url: str) -> Iterator[ChromaClient]:
    client = ChromaClient(chroma_url)
    yield client
    client.close()


def _tenant() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def _record(id_: str, tenant_id: str, vector: list[float]) -> VectorRecord:
    return VectorRecord(id=id_, embedding=vector, text=id_, metadata={"tenant_id": tenant_id})


def test_the_same_collection_name_in_two_tenants_is_two_collections(client: ChromaClient) -> None:
    acme, globex = _tenant(), _tenant()
    client.ensure_collection(acme, "kb-policies")
    client.ensure_collection(globex, "kb-policies")
    client.upsert(acme, "kb-policies", [_record("a1", acme, [1.0, 0.0, 0.0])])
    client.upsert(globex, "kb-policies", [_record("g1", globex, [1.0, 0.0, 0.0])])

    assert [h.id for h in client.query(acme, "kb-policies", [1.0, 0.0, 0.0], n_results=5)] == ["a1"]
    assert [h.id for h in client.query(globex, "kb-policies", [1.0, 0.0, 0.0], n_results=5)] == [
        "g1"
    ]
    assert client.query(_tenant(), "kb-policies", [1.0, 0.0, 0.0], n_results=5) == []


def test_a_query_after_the_collection_was_deleted_elsewhere_finds_nothing(
    client: ChromaClient, chroma_url: str
) -> None:
    tenant = _tenant()
    client.ensure_collection(tenant, "kb-x")
    client.upsert(tenant, "kb-x", [_record("r1", tenant, [0.0, 1.0, 0.0])])
    assert client.query(tenant, "kb-x", [0.0, 1.0, 0.0], n_results=1)[0].score > 0.99

    other_process = ChromaClient(chroma_url)
    assert other_process.delete_collection(tenant, "kb-x")
    other_process.close()

    assert client.query(tenant, "kb-x", [0.0, 1.0, 0.0], n_results=1) == []


def test_dropping_a_tenant_removes_its_database(client: ChromaClient) -> None:
    tenant = _tenant()
    client.ensure_collection(tenant, "kb-y")
    assert tenant in client.list_tenant_databases()
    assert client.drop_tenant(tenant)
    assert tenant not in client.list_tenant_databases()
    assert not client.drop_tenant(tenant)


def test_names_that_could_escape_are_refused_and_a_dead_server_is_unavailable() -> None:
    with pytest.raises(ValueError):
        database_for("../acme")
    dead = ChromaClient("http://127.0.0.1:9", timeout_s=0.5)
    try:
        with pytest.raises(ValueError):
            dead.query("acme", "../x", [1.0], n_results=1)
        with pytest.raises(ServiceUnavailableError):
            dead.query("acme", "kb-1", [1.0], n_results=1)
    finally:
        dead.close()
