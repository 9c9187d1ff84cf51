"""Tenant-scoped repositories over the ORM models (PostgreSQL adapter).

Each takes a SQLAlchemy `Session` named `db`. Every method that touches tenant-owned rows takes
`tenant_id` (keyword-only, first) and filters on it. Repositories flush, never commit: wrap the
calls in `agenthub.db.engine.transaction(...)`.
"""

from agenthub.repositories.agents import AgentConfigRepository
from agenthub.repositories.audit import AuditRepository
from agenthub.repositories.common import UNSET, Unset, UnsetType
from agenthub.repositories.data_sources import DataSourceRepository
from agenthub.repositories.formats import OutputFormatRepository
from agenthub.repositories.llm import LlmModelRepository, TenantLlmConfigRepository
from agenthub.repositories.messages import MessageRepository, NewMessage
from agenthub.repositories.permissions import PermissionRepository
from agenthub.repositories.sessions import ChatSessionRepository
from agenthub.repositories.tenants import TenantRepository
from agenthub.repositories.tools import BaseToolRepository, ToolConfigRepository

__all__ = [
    "UNSET",
    "AgentConfigRepository",
    "AuditRepository",
    "BaseToolRepository",
    "ChatSessionRepository",
    "DataSourceRepository",
    "LlmModelRepository",
    "MessageRepository",
    "NewMessage",
    "OutputFormatRepository",
    "PermissionRepository",
    "TenantLlmConfigRepository",
    "TenantRepository",
    "ToolConfigRepository",
    "Unset",
    "UnsetType",
]
