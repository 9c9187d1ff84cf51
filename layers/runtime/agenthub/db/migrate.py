"""Alembic, wrapped: `agenthub db upgrade|downgrade|current` use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

import agenthub


def migrations_dir() -> Path:
    """`migrations/` from the wheel (packaged inside agenthub) or from the source checkout."""
    package_dir = Path(agenthub.__file__).resolve().parent
    candidates = [package_dir / "migrations", *(p / "migrations" for p in package_dir.parents)]
    for candidate in candidates:
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("cannot find the Alembic migrations directory")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "-1") -> None:
    command.downgrade(alembic_config(url), revision)


def current(url: str) -> None:
    command.current(alembic_config(url), verbose=False)
