"""The Docker local stack: localstack-compose.yml and LocalStack's init script.

There is no Docker here, so the compose file is checked as data and the init script runs, as its
ready.d hook would run it, against a real AWS API emulator: a moto server on a free port.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
import yaml
from cryptography.fernet import Fernet

from agenthub.embedded import free_port
from agenthub.local import aws as embedded_aws

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "localstack-compose.yml"
INIT_DIR = REPO_ROOT / "infra" / "localstack"
INIT_PY = INIT_DIR / "init_aws.py"
INIT_SH = INIT_DIR / "init-aws.sh"
READY_D = "/etc/localstack/init/ready.d/"


def _load_init_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("agenthub_init_aws", INIT_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


init_aws = _load_init_module()


# --- localstack-compose.yml -------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict)
    return data


def _host_ports(service: dict[str, Any]) -> set[int]:
    # "127.0.0.1:5432:5432" or "5432:5432": the host port is the one before the container port.
    return {int(str(mapping).split(":")[-2]) for mapping in service.get("ports", [])}


@pytest.mark.parametrize(
    ("service", "image_prefix", "port"),
    [
        ("localstack", "localstack/localstack:", 4566),
        ("postgres", "postgres:16", 5432),
        ("redis", "redis:7", 6379),
        ("chroma", "chromadb/chroma", 8000),
    ],
)
def test_compose_runs_each_service_on_its_usual_port(
    compose: dict[str, Any], service: str, image_prefix: str, port: int
) -> None:
    spec = compose["services"][service]

    assert spec["image"].startswith(image_prefix)
    assert port in _host_ports(spec)


def test_localstack_emulates_the_services_agenthub_uses(compose: dict[str, Any]) -> None:
    services = compose["services"]["localstack"]["environment"]["SERVICES"].split(",")

    assert set(services) >= {"sqs", "secretsmanager", "ssm", "s3", "events"}


def test_the_postgres_credentials_match_the_documented_database_url(
    compose: dict[str, Any],
) -> None:
    env = compose["services"]["postgres"]["environment"]
    url = f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@localhost:5432/"
    url += env["POSTGRES_DB"]

    assert url in (REPO_ROOT / "infra" / "README.md").read_text()
    assert url in COMPOSE_FILE.read_text()


def test_the_init_hook_is_mounted_into_ready_d_with_the_script_it_runs(
    compose: dict[str, Any],
) -> None:
    mounts = {}
    for volume in compose["services"]["localstack"]["volumes"]:
        source, target, *_ = volume.split(":")
        mounts[target] = (REPO_ROOT / source).resolve()

    hooks = {target: source for target, source in mounts.items() if target.startswith(READY_D)}
    assert list(hooks.values()) == [INIT_SH]
    assert os.access(INIT_SH, os.X_OK), "LocalStack runs only executable shell hooks"
    # The wrapper runs the Python script from where the compose file mounts it.
    (py_target,) = [target for target, source in mounts.items() if source == INIT_PY]
    assert py_target in INIT_SH.read_text()
    assert INIT_SH.read_text().startswith("#!/bin/bash\n")


# --- init_aws.py against a moto server --------------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def fresh_endpoint(moto_endpoint: str) -> str:
    """The moto server, reset: each test starts without queues or secrets."""
    import urllib.request

    request = urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    return moto_endpoint


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _run_init(endpoint: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the script as the ready.d hook does: a fresh interpreter, no AWS configuration."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AGENTHUB_", "BOTO"))}
    clean["AWS_ENDPOINT_URL"] = endpoint
    clean.update(env)
    return subprocess.run(
        [sys.executable, str(INIT_PY)],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _secret(endpoint: str) -> dict[str, Any]:
    raw = _client("secretsmanager", endpoint).get_secret_value(SecretId="agenthub/local")
    value: dict[str, Any] = json.loads(raw["SecretString"])
    return value


def test_init_creates_the_queue_the_dlq_and_the_secret(fresh_endpoint: str) -> None:
    # WHEN the hook runs against an empty endpoint
    result = _run_init(fresh_endpoint)

    # THEN the reload queue redrives to its DLQ after 3 receives
    assert result.returncode == 0, result.stderr
    sqs = _client("sqs", fresh_endpoint)
    queue_url = sqs.get_queue_url(QueueName="agenthub-config-reload")["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName="agenthub-config-reload-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dlq_arn
    assert int(redrive["maxReceiveCount"]) == 3
    # AND the secret holds a usable Fernet key, which the output never shows
    keys = _secret(fresh_endpoint)["crypto__fernet_keys"]
    Fernet(keys.split(",")[0])
    assert keys not in result.stdout + result.stderr
    assert "agenthub-config-reload" in result.stdout


def test_init_stores_the_fernet_keys_it_is_given(fresh_endpoint: str) -> None:
    keys = f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}"

    result = _run_init(fresh_endpoint, AGENTHUB_CRYPTO__FERNET_KEYS=keys)

    assert result.returncode == 0, result.stderr
    assert _secret(fresh_endpoint) == {"crypto__fernet_keys": keys}


def test_running_init_again_changes_nothing_and_keeps_the_key(fresh_endpoint: str) -> None:
    assert _run_init(fresh_endpoint).returncode == 0
    first_key = _secret(fresh_endpoint)["crypto__fernet_keys"]

    again = _run_init(fresh_endpoint)

    assert again.returncode == 0, again.stderr
    assert _secret(fresh_endpoint)["crypto__fernet_keys"] == first_key
    assert "kept" in again.stdout
    queues = _client("sqs", fresh_endpoint).list_queues()["QueueUrls"]
    assert sorted(url.rsplit("/", 1)[-1] for url in queues) == [
        "agenthub-config-reload",
        "agenthub-config-reload-dlq",
    ]


def test_init_repairs_a_queue_that_lost_its_redrive_policy(fresh_endpoint: str) -> None:
    sqs = _client("sqs", fresh_endpoint)
    sqs.create_queue(QueueName="agenthub-config-reload")

    assert _run_init(fresh_endpoint).returncode == 0

    url = sqs.get_queue_url(QueueName="agenthub-config-reload")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
    assert json.loads(attributes["Attributes"]["RedrivePolicy"])["maxReceiveCount"] in (3, "3")


def test_the_embedded_stack_accepts_what_init_created(
    fresh_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`agenthub dev --no-embedded` bootstraps the same resources on LocalStack: no conflict."""
    for name, value in embedded_aws.DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    assert _run_init(fresh_endpoint).returncode == 0
    key = Fernet.generate_key().decode()

    resources = embedded_aws.bootstrap(fresh_endpoint, fernet_key=key, region="us-east-1")

    assert resources.queue_url.endswith("/agenthub-config-reload")
    assert resources.dlq_url.endswith("/agenthub-config-reload-dlq")
    assert _secret(fresh_endpoint) == {"crypto__fernet_keys": key}


def test_init_uses_the_embedded_stacks_names_and_settings() -> None:
    assert init_aws.RELOAD_QUEUE == embedded_aws.RELOAD_QUEUE
    assert init_aws.RELOAD_DLQ == embedded_aws.RELOAD_DLQ
    assert init_aws.LOCAL_SECRET_ID == embedded_aws.LOCAL_SECRET_ID
    assert init_aws.MAX_RECEIVE_COUNT == embedded_aws.MAX_RECEIVE_COUNT
    assert init_aws.RELOAD_VISIBILITY_TIMEOUT_S == embedded_aws.RELOAD_VISIBILITY_TIMEOUT_S


def test_a_generated_key_is_a_valid_fernet_key() -> None:
    key = init_aws.generate_fernet_key()

    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"
    assert init_aws.generate_fernet_key() != key
