"""Retention removes attachments with their conversation, and uploads that were never sent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from tests.support.documents import invoice_png

if TYPE_CHECKING:
    from tests.integration.document_fixtures import Client
    from tests.integration.storage_fixtures import FilesBucket

pytest_plugins = ["tests.integration.document_fixtures"]

ClientFor = Callable[..., "Client"]


def _objects(bucket: FilesBucket) -> list[str]:
    listed = bucket.client.list_objects_v2(Bucket=bucket.name)
    return [item["Key"] for item in listed.get("Contents", [])]


def _upload_ids() -> list[str]:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.models import Upload

    with get_sessionmaker()() as db:
        return [str(u.id) for u in db.scalars(select(Upload))]


def _age(table: str, column: str, days: int) -> None:
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.db.models import ChatSession, Upload

    model = {"sessions": ChatSession, "uploads": Upload}[table]
    with transaction(get_sessionmaker()) as db:
        db.execute(update(model).values({column: datetime.now(UTC) - timedelta(days=days)}))


def test_an_expired_conversation_takes_its_attachments_with_it(
    client_for: ClientFor, documents_env: FilesBucket
) -> None:
    from agenthub.composition import get_retention_service

    alice = client_for()
    sent = alice.upload(invoice_png())
    assert alice.chat("read this invoice", attachments=[sent]).status == 200
    assert len(_objects(documents_env)) == 1
    _age("sessions", "last_activity_at", days=400)

    report = get_retention_service().run()

    assert report.sessions == 1
    assert _upload_ids() == []
    assert _objects(documents_env) == []


def test_a_live_conversation_keeps_its_attachments(
    client_for: ClientFor, documents_env: FilesBucket
) -> None:
    from agenthub.composition import get_retention_service

    alice = client_for()
    sent = alice.upload(invoice_png())
    assert alice.chat("read this invoice", attachments=[sent]).status == 200
    _age("uploads", "created_at", days=30)  # an old file, but its conversation is active

    get_retention_service().run()

    assert _upload_ids() == [sent]
    assert len(_objects(documents_env)) == 1


def test_uploads_never_sent_are_removed_after_a_day_and_not_before(
    client_for: ClientFor, documents_env: FilesBucket
) -> None:
    from agenthub.composition import get_retention_service

    alice = client_for()
    alice.upload(invoice_png())
    get_retention_service().run()
    assert len(_upload_ids()) == 1

    _age("uploads", "created_at", days=2)
    get_retention_service().run()

    assert _upload_ids() == []
    assert _objects(documents_env) == []


def test_a_deleted_conversation_leaves_its_uploads_to_the_sweep(
    client_for: ClientFor, documents_env: FilesBucket
) -> None:
    import uuid

    from agenthub.composition import get_retention_service, get_session_service

    alice = client_for()
    sent = alice.upload(invoice_png())
    answer = alice.chat("read this invoice", attachments=[sent])
    get_session_service().delete_session(
        tenant_id="acme", user_id="alice", session_id=uuid.UUID(answer.body["session_id"])
    )
    _age("uploads", "created_at", days=2)

    get_retention_service().run()

    assert _upload_ids() == []
    assert _objects(documents_env) == []
