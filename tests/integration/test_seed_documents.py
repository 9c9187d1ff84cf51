"""The documents seed: the OCR agent and tool for the demo tenants, admin changes kept."""

from __future__ import annotations

from typing import Any

pytest_plugins = ["tests.integration.chat_fixtures"]


def test_the_demo_seed_adds_the_ocr_agent_with_read_document(seeded: None) -> None:
    from agenthub.composition import get_config_source

    config = get_config_source().get("acme")
    agent = config.agent("ocr")

    assert agent is not None
    assert [t.name for t in agent.tools] == ["read_document"]
    assert agent.tools[0].type == "OCR"
    assert agent.output_format.name == "card"


def test_seeding_again_keeps_what_an_admin_changed(seeded: None, business_api_server: Any) -> None:
    from agenthub.composition import get_keyring, get_sessionmaker
    from agenthub.db.engine import transaction
    from agenthub.repositories import AgentConfigRepository, PermissionRepository
    from agenthub.services.seed import seed_demo

    with transaction(get_sessionmaker()) as db:
        agents = AgentConfigRepository(db)
        ocr = agents.get_by_name("ocr")
        assert ocr is not None
        agents.update(
            agent_id=ocr.id, expected_version=ocr.version, changes={"description": "edited"}
        )
        PermissionRepository(db).set_agent(tenant_id="globex", agent_id=ocr.id, enabled=False)

    with transaction(get_sessionmaker()) as db:
        seed_demo(db, keyring=get_keyring(), api_url=business_api_server.base_url)

    with get_sessionmaker()() as db:
        ocr = AgentConfigRepository(db).get_by_name("ocr")
        assert ocr is not None and ocr.description == "edited"
        permissions = PermissionRepository(db).list_agent_permissions(tenant_id="globex")
        assert [p.enabled for p in permissions if p.agent_id == ocr.id] == [False]
