"""The chat function's path imports no SQLAlchemy: not to load the handler, not to serve a turn
without attachments, whether its tenant config is cached (a warm Redis) or read from PostgreSQL
(a miss: agenthub.db.tenant_config). Attachments, and the admin and sessions functions import it
where they need it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.lambda_events import rest_event

pytest_plugins = ["tests.integration.chat_fixtures"]

REPO_ROOT = Path(__file__).resolve().parents[2]

# Loads the chat handler in a fresh interpreter, serves the events in argv[1] (if any) and
# prints what it answered and whether SQLAlchemy (or any of its modules) got imported.
CHILD = """
import gc, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("chat_handler", "functions/chat/handler.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from tests.support.lambda_events import LambdaContext
answers = []
for event in json.loads(sys.argv[1]):
    response = module.handler(event, LambdaContext())
    body = json.loads(response.get("body") or "null") or {}
    answers.append({"status": response["statusCode"], "session_id": body.get("session_id")})
loaded = sorted(m for m in sys.modules if m == "sqlalchemy" or m.startswith("sqlalchemy."))
tools = sorted(m for m in sys.modules if m.startswith("agenthub.tools"))
collector = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
print(json.dumps({"answers": answers, "sqlalchemy": loaded[:5], "tools": tools[:5],
                  "collector": collector}))
"""


# The streaming function (functions/chat_stream/app.py, an ASGI app) in a fresh interpreter:
# one streamed turn through Starlette's test client, with the token in argv[1].
STREAM_CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("chat_stream_app", "functions/chat_stream/app.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from starlette.testclient import TestClient
with TestClient(module.app) as client:
    response = client.post(
        "/api/acme/chat/stream",
        json={"message": "hello"},
        headers={"Authorization": "Bearer " + sys.argv[1]},
    )
events = [line[7:] for line in response.text.splitlines() if line.startswith("event: ")]
loaded = sorted(m for m in sys.modules if m == "sqlalchemy" or m.startswith("sqlalchemy."))
print(json.dumps({"status": response.status_code, "events": events, "sqlalchemy": loaded[:5]}))
"""


def _run_child(events: list[dict[str, Any]], env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(events)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _chat_event(token: str, message: str, session_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message}
    if session_id is not None:
        body["session_id"] = session_id
    return rest_event(
        "POST",
        "/api/acme/chat",
        body=body,
        token=token,
        resource="/api/{tenant_id}/chat",
        path_parameters={"tenant_id": "acme"},
    )


def _greeting_in_a_fresh_container(token_for: Callable[..., str]) -> dict[str, Any]:
    """A fresh container (this process keeps no client) serves alice's "hello"."""
    from agenthub import composition

    composition.reset()
    return _run_child([_chat_event(token_for("acme", "alice"), "hello")])


def test_loading_the_chat_handler_imports_no_sqlalchemy() -> None:
    env = {"AGENTHUB_ENV": "test", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}

    assert _run_child([], env=env)["sqlalchemy"] == []


def test_a_turn_whose_config_is_cached_imports_no_sqlalchemy_and_is_stored(
    seeded: None, token_for: Callable[..., str]
) -> None:
    from agenthub import composition
    from agenthub.composition import get_config_source, get_engine

    # GIVEN the tenant's config in Redis (another container built it) and a fresh container
    get_config_source().get("acme")
    composition.reset()
    token = token_for("acme", "alice")

    # WHEN the fresh container serves a new conversation's first turn, then its second
    first = _run_child([_chat_event(token, "hello")])
    session_id = first["answers"][0]["session_id"]
    second = _run_child([_chat_event(token, "hello again", session_id)])

    # THEN both were answered and stored, and SQLAlchemy was never imported
    assert [a["status"] for a in first["answers"] + second["answers"]] == [200, 200]
    assert first["sqlalchemy"] == second["sqlalchemy"] == []
    from sqlalchemy import text

    with get_engine().connect() as conn:
        session = conn.execute(
            text("SELECT message_count, turn_started_at FROM sessions WHERE id = :id"),
            {"id": uuid.UUID(session_id)},
        ).one()
    assert tuple(session) == (4, None)


def test_a_turn_the_supervisor_answers_loads_no_tool_machinery(
    seeded: None, token_for: Callable[..., str]
) -> None:
    # (a container's first agent turn loads it, with the agent: tests/unit/test_chat_import_path)
    greeted = _greeting_in_a_fresh_container(token_for)

    assert greeted["answers"][0]["status"] == 200
    assert greeted["tools"] == []


def test_a_cold_container_collects_garbage_again_after_its_first_turn(
    seeded: None, token_for: Callable[..., str]
) -> None:
    # (agenthub.startup: its imports and first turn ran with the collector paused)
    served = _greeting_in_a_fresh_container(token_for)

    assert served["answers"][0]["status"] == 200
    assert served["collector"]["enabled"] is True
    # what the start made sits in the permanent generation, which collections skip
    assert served["collector"]["frozen"] > 100_000


def test_a_streamed_turn_whose_config_is_cached_imports_no_sqlalchemy(
    seeded: None, token_for: Callable[..., str]
) -> None:
    from agenthub import composition
    from agenthub.composition import get_config_source

    # GIVEN the tenant's config in Redis and a fresh streaming container
    get_config_source().get("acme")
    composition.reset()

    # WHEN it streams a new conversation's first turn
    done = subprocess.run(
        [sys.executable, "-c", STREAM_CHILD, token_for("acme", "alice")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    # THEN the turn was answered and done, and SQLAlchemy was never imported
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == 200
    assert result["events"][-2:] == ["answer", "done"]
    assert result["sqlalchemy"] == []


def test_a_config_miss_serves_the_turn_from_postgresql_without_sqlalchemy(
    seeded: None, token_for: Callable[..., str]
) -> None:
    # GIVEN nothing cached in Redis for the tenant (the seed published no config): the first
    # message after the cache's TTL, on a cold container
    # WHEN a fresh container serves a turn
    result = _run_child([_chat_event(token_for("acme", "alice"), "hello")])

    # THEN it is answered, its config read in plain SQL: SQLAlchemy was never imported
    assert [a["status"] for a in result["answers"]] == [200]
    assert result["sqlalchemy"] == []
