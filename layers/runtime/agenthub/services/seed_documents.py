"""Demo seed for documents: the `read_document` OCR tool and the `ocr` agent.

Creates what is missing and leaves alone what exists (an admin may have changed it), then
enables both for the demo tenants unless a tenant already has a permission row for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from agenthub.db.models import ToolType
from agenthub.repositories import (
    AgentConfigRepository,
    BaseToolRepository,
    OutputFormatRepository,
    PermissionRepository,
    ToolConfigRepository,
)

OCR_TOOL_NAME = "read_document"
OCR_AGENT_NAME = "ocr"
OCR_TOOL_DESCRIPTION = (
    "Read the document attached to the user's message with the OCR service: its text and, "
    "for invoices and receipts, the seller, tax code (MST), invoice number, date, total and VAT"
)
OCR_TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "kind": {
            "type": "string",
            "enum": ["auto", "invoice", "receipt", "text"],
            "description": "what the document is: invoice, receipt, text, or auto to detect it",
        },
        "document": {
            "type": "integer",
            "minimum": 1,
            "maximum": 5,
            "description": "which attachment of the message to read, 1 for the first",
        },
    },
}
# The supervisor routes on agent descriptions: no "tax code" or "MST" here, or a debt question
# naming an MST would look like a second intent (the tool's description names them).
OCR_AGENT_DESCRIPTION = (
    "Reads attached documents with OCR: invoices, receipts (hóa đơn), scanned PDFs and images; "
    "returns their text and the invoice fields (seller, number, date, total, VAT)"
)
OCR_AGENT_PROMPT = (
    "You are the OCR agent. When the user attaches a document, call read_document (kind "
    "'invoice' for invoices, 'receipt' for receipts, otherwise 'auto') and answer with the "
    "fields it found, exactly as read: never invent or round an amount or a tax code. If the "
    "tool says no document is attached, ask the user to attach the file. If the file cannot be "
    "read, say why in plain words."
)


def seed_documents(db: Session, *, tenant_ids: Sequence[str]) -> bool:
    """The OCR agent and its `read_document` tool (what is missing); True when it created any."""
    changed = False
    base_tool = BaseToolRepository(db).get_by_type(ToolType.OCR)
    card = OutputFormatRepository(db).get_by_name("card")
    if base_tool is None or card is None:  # seeded by seed_demo before this runs
        raise RuntimeError("the OCR base tool and the card format must be seeded first")
    tools = ToolConfigRepository(db)
    tool = tools.get_by_name(OCR_TOOL_NAME)
    if tool is None:
        changed = True
        tool = tools.create(
            name=OCR_TOOL_NAME,
            base_tool_id=base_tool.id,
            description=OCR_TOOL_DESCRIPTION,
            input_schema=OCR_TOOL_SCHEMA,
            config={},
        )
    agents = AgentConfigRepository(db)
    agent = agents.get_by_name(OCR_AGENT_NAME)
    if agent is None:
        changed = True
        agent = agents.create(
            name=OCR_AGENT_NAME,
            display_name="OCR",
            description=OCR_AGENT_DESCRIPTION,
            system_prompt=OCR_AGENT_PROMPT,
            output_format_id=card.id,
        )
        agents.assign_tool(agent_id=agent.id, tool_id=tool.id, priority=1)
    permissions = PermissionRepository(db)
    for tenant_id in tenant_ids:
        agent_rows = {p.agent_id for p in permissions.list_agent_permissions(tenant_id=tenant_id)}
        if agent.id not in agent_rows:
            changed = True
            permissions.set_agent(tenant_id=tenant_id, agent_id=agent.id, enabled=True)
        tool_rows = {p.tool_id for p in permissions.list_tool_permissions(tenant_id=tenant_id)}
        if tool.id not in tool_rows:
            changed = True
            permissions.set_tool(tenant_id=tenant_id, tool_id=tool.id, enabled=True)
    return changed
