"""Admin use cases: agents, tools, tenants (settings, LLM config, permissions), reload, metrics.

Each change runs through `ChangeRunner`: the write, its audit row and the affected tenants'
config versions commit together, then a reload message goes out (best effort).

    actor                 who is asking and what their role allows
    changes               the transaction + reload around every change
    audit                 the audit row of a change (snapshots carry no secrets)
    agents / tools        global config (platform admins write, every admin reads)
    tenants / permissions a tenant's settings, LLM config, enabled agents and tools
    tool_secrets          a tenant's encrypted credential for a `tenant_secret` tool
    data_sources          a tenant's databases (encrypted URLs) for DB_QUERY tools
    reload / catalogue / metrics
"""

from agenthub.services.admin.actor import Actor
from agenthub.services.admin.agents import AgentAdmin, AgentToolView, AgentView
from agenthub.services.admin.catalogue import CatalogueAdmin
from agenthub.services.admin.changes import Changed, ChangeRunner, ReloadPublisher, ReloadStatus
from agenthub.services.admin.metrics import MetricsAdmin, MetricsReport, redis_hit_rate
from agenthub.services.admin.permissions import (
    PermissionAdmin,
    PermissionsView,
    Switch,
    ToolSwitch,
)
from agenthub.services.admin.reload import ReloadAdmin
from agenthub.services.admin.tenants import (
    LlmChoice,
    LlmConfigInput,
    TenantAdmin,
    TenantView,
    llm_config_snapshot,
)
from agenthub.services.admin.tool_secrets import ToolSecretAdmin, ToolSecretView
from agenthub.services.admin.tools import ToolAdmin, ToolView

__all__ = [
    "Actor",
    "AgentAdmin",
    "AgentToolView",
    "AgentView",
    "CatalogueAdmin",
    "ChangeRunner",
    "Changed",
    "LlmChoice",
    "LlmConfigInput",
    "MetricsAdmin",
    "MetricsReport",
    "PermissionAdmin",
    "PermissionsView",
    "ReloadAdmin",
    "ReloadPublisher",
    "ReloadStatus",
    "Switch",
    "TenantAdmin",
    "TenantView",
    "ToolAdmin",
    "ToolSecretAdmin",
    "ToolSecretView",
    "ToolSwitch",
    "ToolView",
    "llm_config_snapshot",
    "redis_hit_rate",
]
