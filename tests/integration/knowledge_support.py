"""Helpers for the knowledge tests: an `analysis` agent, knowledge bases and documents via HTTP."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.integration.admin_support import Admin
from tests.integration.storage_fixtures import FilesBucket

Drain = Callable[..., list[Any]]


@dataclass
class KnowledgeStack:
    sqs: Any
    ingest_url: str
    dlq_url: str
    reload_url: str
    bucket: FilesBucket
    chroma_url: str

    def queued(self, url: str | None = None) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url or self.ingest_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )


ANALYSIS_DESCRIPTION = (
    "Company policies from the knowledge base: payment terms and payment methods, returns "
    "and refunds, VAT invoices, shipping times and fees, warranty, customer support hours "
    "(chính sách công ty: điều khoản thanh toán, đổi trả hàng, hóa đơn VAT, giao hàng, "
    "bảo hành, giờ hỗ trợ)"
)


def ensure_analysis_agent() -> None:
    """A minimal `analysis` agent (the analysis seed makes the real one), enabled for the demo
    tenants, then the knowledge seed again: it assigns `search_company_policies` to it."""
    from agenthub.composition import get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import (
        AgentConfigRepository,
        OutputFormatRepository,
        PermissionRepository,
    )
    from agenthub.services.seed_knowledge import seed_knowledge

    with transaction(get_sessionmaker()) as db:
        agents = AgentConfigRepository(db)
        agent = agents.get_by_name("analysis")
        if agent is None:
            text_format = OutputFormatRepository(db).get_by_name("text")
            assert text_format is not None
            agent = agents.create(
                name="analysis",
                display_name="Analysis",
                description=ANALYSIS_DESCRIPTION,
                system_prompt="You answer questions about company policies from the knowledge "
                "base, citing the documents.",
                output_format_id=text_format.id,
                is_active=True,
            )
        permissions = PermissionRepository(db)
        for tenant_id in ("acme", "globex"):
            permissions.set_agent(tenant_id=tenant_id, agent_id=agent.id, enabled=True)
        seed_knowledge(db)


def kb_path(tenant: str, kb: str = "") -> str:
    base = f"/api/admin/tenants/{tenant}/knowledge-bases"
    return f"{base}/{kb}" if kb else base


def upload_text(
    admin: Admin, path_tenant: str, kb: str, title: str, text: str, **kwargs: Any
) -> Any:
    """POST `{title, text}` to a knowledge base (as a platform admin unless told otherwise)."""
    return admin(
        "POST", kb_path(path_tenant, kb) + "/documents", {"title": title, "text": text}, **kwargs
    )


def upload_bytes(
    admin: Admin, tenant: str, kb: str, title: str, data: bytes, content_type: str
) -> Any:
    body = {
        "title": title,
        "content_base64": base64.b64encode(data).decode(),
        "content_type": content_type,
    }
    return admin("POST", kb_path(tenant, kb) + "/documents", body, tenant=tenant)
