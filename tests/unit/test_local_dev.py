"""`agenthub dev` helpers: console lines, the curl, AWS environment, stale pgserver users."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from agenthub.errors import ConfigurationError
from agenthub.local.aws import (
    DUMMY_CREDENTIALS,
    LocalAwsResources,
    local_aws_environment,
    local_credentials_environment,
)
from agenthub.local.dev import (
    Console,
    chat_curl,
    llm_description,
    prune_dead_pgserver_handles,
)

RESOURCES = LocalAwsResources(
    endpoint_url="http://127.0.0.1:4566",
    queue_url="http://127.0.0.1:4566/123456789012/agenthub-config-reload",
    queue_arn="arn:aws:sqs:us-east-1:123456789012:agenthub-config-reload",
    dlq_url="http://127.0.0.1:4566/123456789012/agenthub-config-reload-dlq",
    dlq_arn="arn:aws:sqs:us-east-1:123456789012:agenthub-config-reload-dlq",
    secret_id="agenthub/local",
)


class Utf8Stream(io.StringIO):
    encoding = "utf-8"


def test_a_step_prints_its_label_detail_and_duration() -> None:
    stream = Utf8Stream()
    console = Console(stream)

    with console.step("PostgreSQL (embedded)") as step:
        step.detail = "(socket)"

    assert re.fullmatch(
        r"✓ PostgreSQL \(embedded\) \(socket\) \.\.\. \d+\.\d s\n", stream.getvalue()
    )


def test_a_failed_step_says_why_and_lets_the_error_through() -> None:
    stream = Utf8Stream()
    console = Console(stream)

    with pytest.raises(ConfigurationError), console.step("Redis (embedded)"):
        raise ConfigurationError("embedded Redis exited at start")

    assert stream.getvalue() == "✗ Redis (embedded): embedded Redis exited at start\n"


def test_the_console_falls_back_to_ascii_marks() -> None:
    class AsciiStream(io.StringIO):
        encoding = "ascii"

    stream = AsciiStream()
    with Console(stream).step("Demo seed"):
        pass

    assert stream.getvalue().startswith("ok Demo seed ... ")


def test_the_printed_curl_is_a_valid_shell_command_with_the_demo_message() -> None:
    command = chat_curl("http://127.0.0.1:3000", "eyJ.abc.def")

    words = shlex.split(command)
    assert words[:5] == ["curl", "-s", "-X", "POST", "http://127.0.0.1:3000/api/acme/chat"]
    assert "Authorization: Bearer eyJ.abc.def" in words
    assert json.loads(words[words.index("-d") + 1]) == {"message": "Debt for MST 0123456789"}


def test_the_llm_line_names_the_offline_model_and_how_to_use_a_real_one() -> None:
    assert llm_description("offline", "offline").startswith(
        "offline deterministic model (set OPENAI_API_KEY"
    )
    assert llm_description("openai", "gpt-4o-mini") == "openai gpt-4o-mini (from the environment)"


def test_functions_get_the_endpoint_queue_and_local_secret() -> None:
    env = local_aws_environment(RESOURCES, {}, keep_real_aws_for_others=False)

    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["AGENTHUB_AWS__RELOAD_QUEUE_URL"] == RESOURCES.queue_url
    assert env["AGENTHUB_SECRET_IDS"] == "agenthub/local"


def test_with_bedrock_only_sqs_and_secrets_go_to_the_local_endpoint() -> None:
    env = local_aws_environment(RESOURCES, {}, keep_real_aws_for_others=True)

    assert "AWS_ENDPOINT_URL" not in env
    assert env["AWS_ENDPOINT_URL_SQS"] == env["AWS_ENDPOINT_URL_SECRETS_MANAGER"]
    assert env["AGENTHUB_AWS__ENDPOINT_URL"] == "http://127.0.0.1:4566"


def test_configured_secrets_or_keys_are_left_alone() -> None:
    env = local_aws_environment(
        RESOURCES, {"AGENTHUB_CRYPTO__FERNET_KEYS": "k"}, keep_real_aws_for_others=False
    )

    assert "AGENTHUB_SECRET_IDS" not in env


def test_dummy_credentials_only_when_none_are_configured(tmp_path: Path) -> None:
    nowhere = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
    }
    credentials_file = tmp_path / "credentials"
    credentials_file.write_text("[default]\n")

    assert local_credentials_environment(nowhere) == {
        **DUMMY_CREDENTIALS,
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    assert local_credentials_environment({**nowhere, "AWS_PROFILE": "work"}) == {
        "AWS_DEFAULT_REGION": "us-east-1"
    }
    with_file = {**nowhere, "AWS_SHARED_CREDENTIALS_FILE": str(credentials_file)}
    assert "AWS_ACCESS_KEY_ID" not in local_credentials_environment(with_file)
    assert (
        local_credentials_environment(
            {**nowhere, "AWS_ACCESS_KEY_ID": "real", "AWS_REGION": "eu-west-1"}
        )
        == {}
    )


def test_dead_pgserver_users_are_forgotten_and_live_ones_kept(tmp_path: Path) -> None:
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()  # reaped: its pid names no process now
    handles = tmp_path / ".handle_pids.json"
    handles.write_text(json.dumps([exited.pid, os.getpid()]))

    prune_dead_pgserver_handles(tmp_path)

    assert json.loads(handles.read_text()) == [os.getpid()]


def test_pruning_without_a_handle_file_does_nothing(tmp_path: Path) -> None:
    prune_dead_pgserver_handles(tmp_path)

    assert list(tmp_path.iterdir()) == []
