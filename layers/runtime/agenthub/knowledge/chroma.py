"""A small client over Chroma's v2 REST API (httpx2), so the runtime never imports `chromadb`.

Isolation: every AgentHub tenant has its own Chroma database, `t_<tenant id>`, inside one Chroma
tenant (`agenthub`). The database name is made here from the verified tenant id the caller
passes (never from request input), and collections are looked up by *name* inside that database
before each use: a collection id is never taken from a caller, because Chroma does not check the
tenant or database on id-addressed calls. Deleting the database removes all of a tenant's
vectors at once.

Driver errors become `ServiceUnavailableError` ("the knowledge store is unavailable").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx2

from agenthub.errors import NotFoundError, ServiceUnavailableError

CHROMA_TENANT = "agenthub"
_TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_COLLECTION = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$")
MetadataValue = str | int | float | bool


@dataclass(frozen=True)
class VectorRecord:
    id: str
    embedding: Sequence[float]
    text: str
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)


@dataclass(frozen=True)
class VectorHit:
    id: str
    text: str
    metadata: Mapping[str, Any]
    # Cosine distance (0 = same direction); the collection is created with space "cosine".
    distance: float

    @property
    def score(self) -> float:
        return 1.0 - self.distance


def database_for(tenant_id: str) -> str:
    """The Chroma database that holds one tenant's collections."""
    if not _TENANT_ID.fullmatch(tenant_id):
        raise ValueError(f"not a tenant id: {tenant_id!r}")
    return f"t_{tenant_id}"


def _collection_name(name: str) -> str:
    if not _COLLECTION.fullmatch(name) or ".." in name:
        raise ValueError(f"not a collection name: {name!r}")
    return name


class ChromaClient:
    """Chroma operations, always scoped to one tenant's database."""

    def __init__(
        self,
        base_url: str,
        *,
        http: httpx2.Client | None = None,
        chroma_tenant: str = CHROMA_TENANT,
        timeout_s: float = 10.0,
    ) -> None:
        self._base = base_url.rstrip("/") + "/api/v2"
        self._http = http or httpx2.Client(timeout=timeout_s)
        self._tenant = chroma_tenant
        self._known_databases: set[str] = set()
        # (database, collection name) -> id, filled only by name lookups inside that database;
        # used by queries (the hot path), dropped when Chroma says the id is gone.
        self._query_ids: dict[tuple[str, str], str] = {}

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ server and databases

    def heartbeat(self) -> bool:
        try:
            return self._http.get(f"{self._base}/heartbeat").status_code == 200
        except httpx2.HTTPError:
            return False

    def _database_path(self, tenant_id: str) -> str:
        return f"{self._base}/tenants/{self._tenant}/databases/{database_for(tenant_id)}"

    def _ensure_database(self, tenant_id: str) -> None:
        database = database_for(tenant_id)
        if database in self._known_databases:
            return
        created = self._request("POST", f"{self._base}/tenants", json={"name": self._tenant})
        if created.status_code not in (200, 409):
            raise _unavailable(created)
        created = self._request(
            "POST", f"{self._base}/tenants/{self._tenant}/databases", json={"name": database}
        )
        if created.status_code not in (200, 409):
            raise _unavailable(created)
        self._known_databases.add(database)

    def drop_tenant(self, tenant_id: str) -> bool:
        """Delete the tenant's database and every vector in it; False if it had none."""
        response = self._request("DELETE", self._database_path(tenant_id))
        database = database_for(tenant_id)
        self._known_databases.discard(database)
        self._query_ids = {k: v for k, v in self._query_ids.items() if k[0] != database}
        if response.status_code == 404:
            return False
        _check(response)
        return True

    def list_tenant_databases(self) -> list[str]:
        """The tenant ids that have a database (for sweeping the vectors of deleted tenants)."""
        response = self._request("GET", f"{self._base}/tenants/{self._tenant}/databases")
        if response.status_code == 404:
            return []
        _check(response)
        names = [str(item.get("name", "")) for item in response.json()]
        return sorted(n.removeprefix("t_") for n in names if n.startswith("t_"))

    # ------------------------------------------------------------------ collections

    def ensure_collection(
        self, tenant_id: str, name: str, *, metadata: Mapping[str, MetadataValue] | None = None
    ) -> str:
        """Create the collection (cosine space) if it does not exist; its id."""
        self._ensure_database(tenant_id)
        body = {
            "name": _collection_name(name),
            "get_or_create": True,
            "configuration": {"hnsw": {"space": "cosine"}},
            "metadata": dict(metadata) if metadata else None,
        }
        response = self._request("POST", f"{self._database_path(tenant_id)}/collections", json=body)
        if response.status_code == 404:  # the database went away under our cache
            self._known_databases.discard(database_for(tenant_id))
            self._ensure_database(tenant_id)
            response = self._request(
                "POST", f"{self._database_path(tenant_id)}/collections", json=body
            )
        _check(response)
        return str(response.json()["id"])

    def _collection_id(self, tenant_id: str, name: str) -> str | None:
        """The id of the tenant's collection named `name` (looked up inside its database)."""
        response = self._request(
            "GET", f"{self._database_path(tenant_id)}/collections/{_collection_name(name)}"
        )
        if response.status_code == 404:
            return None
        _check(response)
        return str(response.json()["id"])

    def delete_collection(self, tenant_id: str, name: str) -> bool:
        self._query_ids.pop((database_for(tenant_id), _collection_name(name)), None)
        response = self._request(
            "DELETE", f"{self._database_path(tenant_id)}/collections/{_collection_name(name)}"
        )
        if response.status_code == 404:
            return False
        _check(response)
        return True

    # ------------------------------------------------------------------ records

    def upsert(self, tenant_id: str, name: str, records: Sequence[VectorRecord]) -> None:
        if not records:
            return
        collection = self._collection_id(tenant_id, name)
        if collection is None:
            raise NotFoundError(f"no vector collection {name!r}")
        body = {
            "ids": [r.id for r in records],
            "embeddings": [list(map(float, r.embedding)) for r in records],
            "documents": [r.text for r in records],
            "metadatas": [dict(r.metadata) for r in records],
        }
        _check(self._request("POST", self._records(tenant_id, collection, "upsert"), json=body))

    def query(
        self,
        tenant_id: str,
        name: str,
        embedding: Sequence[float],
        *,
        n_results: int,
        where: Mapping[str, Any] | None = None,
    ) -> list[VectorHit]:
        """The nearest records; an absent collection (nothing indexed yet) has none."""
        key = (database_for(tenant_id), _collection_name(name))
        collection = self._query_ids.get(key) or self._collection_id(tenant_id, name)
        if collection is None:
            return []
        body: dict[str, Any] = {
            "query_embeddings": [list(map(float, embedding))],
            "n_results": n_results,
            "include": ["documents", "metadatas", "distances"],
        }
        if where:
            body["where"] = dict(where)
        response = self._request("POST", self._records(tenant_id, collection, "query"), json=body)
        if response.status_code == 404 and key in self._query_ids:
            del self._query_ids[key]  # deleted (or re-created) since we looked it up
            return self.query(tenant_id, name, embedding, n_results=n_results, where=where)
        _check(response)
        self._query_ids[key] = collection
        payload = response.json()
        ids = (payload.get("ids") or [[]])[0]
        documents = (payload.get("documents") or [[]])[0] or [""] * len(ids)
        metadatas = (payload.get("metadatas") or [[]])[0] or [{}] * len(ids)
        distances = (payload.get("distances") or [[]])[0] or [1.0] * len(ids)
        return [
            VectorHit(id=i, text=d or "", metadata=m or {}, distance=float(x))
            for i, d, m, x in zip(ids, documents, metadatas, distances, strict=False)
        ]

    def delete_where(self, tenant_id: str, name: str, where: Mapping[str, Any]) -> int:
        collection = self._collection_id(tenant_id, name)
        if collection is None:
            return 0
        response = self._request(
            "POST", self._records(tenant_id, collection, "delete"), json={"where": dict(where)}
        )
        _check(response)
        return int((response.json() or {}).get("deleted") or 0)

    def count(self, tenant_id: str, name: str, where: Mapping[str, Any] | None = None) -> int:
        collection = self._collection_id(tenant_id, name)
        if collection is None:
            return 0
        if where is None:
            response = self._request("GET", self._records(tenant_id, collection, "count"))
            _check(response)
            return int(response.json())
        response = self._request(
            "POST",
            self._records(tenant_id, collection, "get"),
            json={"where": dict(where), "include": []},
        )
        _check(response)
        return len(response.json().get("ids") or [])

    def _records(self, tenant_id: str, collection_id: str, action: str) -> str:
        return f"{self._database_path(tenant_id)}/collections/{collection_id}/{action}"

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except httpx2.HTTPError as exc:
            raise ServiceUnavailableError("the knowledge store is unavailable") from exc


def _check(response: httpx2.Response) -> None:
    if response.status_code >= 400:
        raise _unavailable(response)


def _unavailable(response: httpx2.Response) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        f"the knowledge store refused the request ({response.status_code})",
        details={"status": response.status_code},
    )
