"""`agenthub keys rotate` on real PostgreSQL: stored secrets move to the new key, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from agenthub import composition
from agenthub.cli import main
from agenthub.crypto import KeyRing, generate_key
from agenthub.db.engine import transaction
from agenthub.errors import DecryptionError
from agenthub.repositories import (
    LlmModelRepository,
    PermissionRepository,
    TenantLlmConfigRepository,
    TenantRepository,
)
from tests.integration.admin_support import ReloadQueue
from tests.integration.repo_builders import (
    TENANT_A,
    TENANT_B,
    make_catalogue,
    make_tenants,
    make_tool,
)

pytest_plugins = ["tests.integration.repo_fixtures", "tests.integration.reload_queue_fixtures"]

OLD_KEY = generate_key()
NEW_KEY = generate_key()
LLM_KEYS = {TENANT_A: "sk-tenant-a-000000000001", TENANT_B: "sk-tenant-b-000000000002"}
TOOL_SECRET = "erp-password-of-tenant-a"


@pytest.fixture
def cli_env(base_env: None, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[None]:
    """The CLI on this test's database, with the new key first and the old one still known."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AGENTHUB_CRYPTO__FERNET_KEYS", f"{NEW_KEY},{OLD_KEY}")
    composition.reset()
    yield
    composition.reset()


def _store_secrets(factory: sessionmaker[Session], ring: KeyRing) -> None:
    with transaction(factory) as db:
        make_tenants(db, TENANT_A, TENANT_B, "tenant-c")  # tenant-c has no secrets
        model = LlmModelRepository(db).upsert(
            provider="openai", model_name="gpt-4o-mini", display_name="mini"
        )
        for tenant_id, api_key in LLM_KEYS.items():
            TenantLlmConfigRepository(db).upsert(
                tenant_id=tenant_id, llm_model_id=model.id, encrypted_api_key=ring.encrypt(api_key)
            )
        catalogue = make_catalogue(db)
        permissions = PermissionRepository(db)
        with_secret, without = make_tool(db, catalogue, "erp"), make_tool(db, catalogue, "web")
        permissions.set_tool(
            tenant_id=TENANT_A,
            tool_id=with_secret.id,
            enabled=True,
            encrypted_secret=ring.encrypt(TOOL_SECRET),
        )
        permissions.set_tool(tenant_id=TENANT_B, tool_id=without.id, enabled=True)


def _stored_tokens(factory: sessionmaker[Session]) -> list[bytes]:
    with transaction(factory) as db:
        tokens = [
            config.encrypted_api_key
            for tenant_id in LLM_KEYS
            if (config := TenantLlmConfigRepository(db).get(tenant_id=tenant_id)) is not None
        ]
        tokens += [
            p.encrypted_secret
            for p in PermissionRepository(db).list_tool_permissions(tenant_id=TENANT_A)
        ]
    return [t for t in tokens if t is not None]


@pytest.mark.usefixtures("cli_env")
def test_rotate_re_encrypts_every_stored_secret_under_the_new_key(
    repo_factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN secrets written under the old key
    _store_secrets(repo_factory, KeyRing([OLD_KEY]))
    with transaction(repo_factory) as db:
        versions_before = {t.id: t.config_version for t in TenantRepository(db).list()}

    # WHEN the operator runs `agenthub keys rotate` with AGENTHUB_CRYPTO__FERNET_KEYS="new,old"
    assert main(["keys", "rotate"]) == 0

    # THEN it reports the counts per column, under the new key's fingerprint
    out = capsys.readouterr().out
    assert (
        f"re-encrypted 3 stored secrets under key {KeyRing([NEW_KEY]).primary_fingerprint}" in out
    )
    assert "tenant_llm_configs.encrypted_api_key: 2" in out
    assert "tenant_tool_permissions.encrypted_secret: 1" in out
    assert NEW_KEY not in out and OLD_KEY not in out
    # AND the new key alone reads every value back, while the old key alone no longer can
    new_only, old_only = KeyRing([NEW_KEY]), KeyRing([OLD_KEY])
    tokens = _stored_tokens(repo_factory)
    plaintexts = sorted(new_only.decrypt(t).get_secret_value() for t in tokens)
    assert plaintexts == sorted([*LLM_KEYS.values(), TOOL_SECRET])
    for token in tokens:
        with pytest.raises(DecryptionError):
            old_only.decrypt(token)
    # AND tenants whose secrets changed get a new config version (cached configs go stale)
    with transaction(repo_factory) as db:
        versions_after = {t.id: t.config_version for t in TenantRepository(db).list()}
    assert versions_after == {
        TENANT_A: versions_before[TENANT_A] + 1,
        TENANT_B: versions_before[TENANT_B] + 1,
        "tenant-c": versions_before["tenant-c"],
    }


@pytest.mark.usefixtures("cli_env")
def test_a_value_no_key_can_decrypt_stops_the_rotation_and_changes_nothing(
    repo_factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN one tenant's key was encrypted under a key that is no longer configured
    _store_secrets(repo_factory, KeyRing([OLD_KEY]))
    lost_key = KeyRing([generate_key()])
    with transaction(repo_factory) as db:
        model = LlmModelRepository(db).get_by_name("openai", "gpt-4o-mini")
        assert model is not None
        TenantLlmConfigRepository(db).upsert(
            tenant_id=TENANT_B, llm_model_id=model.id, encrypted_api_key=lost_key.encrypt("x")
        )
    before = _stored_tokens(repo_factory)

    # WHEN the rotation runs
    exit_code = main(["keys", "rotate"])

    # THEN it fails with a message that says where, not what, and rolls everything back
    assert exit_code == 2
    err = capsys.readouterr().err
    assert "tenant_llm_configs.encrypted_api_key of 'tenant-b'" in err
    assert "was the key rotated out" in err
    assert _stored_tokens(repo_factory) == before


@pytest.mark.usefixtures("cli_env")
def test_rotate_tells_running_containers_to_reload_the_tenants_it_changed(
    repo_factory: sessionmaker[Session],
    sqs_reload_queue: ReloadQueue,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Containers compare their cached config with the version in Redis, not in PostgreSQL."""
    # GIVEN secrets of tenants A and B under the old key (tenant-c has none) and a reload queue
    _store_secrets(repo_factory, KeyRing([OLD_KEY]))

    # WHEN the rotation runs
    assert main(["keys", "rotate"]) == 0

    # THEN one reload message names the tenants whose secrets changed, and the CLI says so
    [message] = sqs_reload_queue.messages()
    assert message.tenant_ids == (TENANT_A, TENANT_B)
    assert "keys rotate" in message.reason
    assert "reload queued" in capsys.readouterr().out


@pytest.mark.usefixtures("cli_env")
def test_rotate_reports_a_reload_it_could_not_queue_as_pending(
    repo_factory: sessionmaker[Session], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN no reload queue is configured
    _store_secrets(repo_factory, KeyRing([OLD_KEY]))

    # WHEN the rotation runs
    exit_code = main(["keys", "rotate"])

    # THEN the rotation stands and the operator learns the reload is pending, and why
    assert exit_code == 0
    assert "reload pending: the reload queue is not configured" in capsys.readouterr().out
    for token in _stored_tokens(repo_factory):
        KeyRing([NEW_KEY]).decrypt(token)  # raises unless re-encrypted under the new key


@pytest.mark.usefixtures("cli_env")
def test_rotate_with_nothing_to_re_encrypt_sends_no_reload(
    repo_factory: sessionmaker[Session],
    sqs_reload_queue: ReloadQueue,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with transaction(repo_factory) as db:
        make_tenants(db, TENANT_A)

    assert main(["keys", "rotate"]) == 0

    assert sqs_reload_queue.messages() == []
    assert "reload not needed" in capsys.readouterr().out


def test_generate_prints_a_new_valid_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "generate"]) == 0
    first = capsys.readouterr().out.strip()
    assert main(["keys", "generate"]) == 0
    second = capsys.readouterr().out.strip()
    assert first != second
    assert KeyRing([first, second]).primary_fingerprint
