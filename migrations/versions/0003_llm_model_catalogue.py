"""The LLM catalogue is editable by platform admins: a version (optimistic concurrency) and
whether the model supports the provider's structured output.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "llm_models",
        sa.Column(
            "supports_structured_output", sa.Boolean(), nullable=False, server_default="false"
        ),
    )
    op.add_column(
        "llm_models", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
    )


def downgrade() -> None:
    op.drop_column("llm_models", "version")
    op.drop_column("llm_models", "supports_structured_output")
