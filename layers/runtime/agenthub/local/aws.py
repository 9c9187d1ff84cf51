"""The local AWS endpoint: moto's server on LocalStack's port, and the resources AgentHub uses.

`bootstrap` is idempotent and works against moto or LocalStack alike: the reload queue with its
dead-letter queue (redrive after `MAX_RECEIVE_COUNT` receives) and the `agenthub/local` secret
holding the local Fernet key, read by the functions through `AGENTHUB_SECRET_IDS`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agenthub.local.http_server import bind_socket
from agenthub.local.lambda_runtime import LOCAL_REGION

LOCALSTACK_PORT = 4566
RELOAD_QUEUE = "agenthub-config-reload"
RELOAD_DLQ = "agenthub-config-reload-dlq"
FILES_BUCKET = "agenthub-local-files"
INGEST_QUEUE = "agenthub-ingest"
INGEST_DLQ = "agenthub-ingest-dlq"
# At least the ingest function's timeout (documents take longer than reloads).
INGEST_VISIBILITY_TIMEOUT_S = 120
LOCAL_SECRET_ID = "agenthub/local"  # noqa: S105 - the secret's name, not its value
MAX_RECEIVE_COUNT = 3
# At least the config_reload function's timeout, as AWS requires for an event source.
RELOAD_VISIBILITY_TIMEOUT_S = 30
DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class LocalAwsServer:
    """moto's threaded server on a loopback port (in memory: resources last for one run)."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = LOCALSTACK_PORT) -> None:
        self.host = host
        self.port = port
        self._server: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        from moto.server import ThreadedMotoServer

        # moto's thread would die on a taken port and leave start() waiting forever: check first.
        bind_socket(
            self.host,
            self.port,
            "local AWS endpoint",
            "if LocalStack runs there, set AWS_ENDPOINT_URL=http://127.0.0.1:"
            f"{self.port} to use it; otherwise stop what holds it or choose --aws-port",
        ).close()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


@dataclass(frozen=True)
class LocalAwsResources:
    endpoint_url: str
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str
    secret_id: str
    files_bucket: str = FILES_BUCKET
    ingest_queue_url: str = ""
    ingest_dlq_url: str = ""


def aws_client(service: str, endpoint_url: str, region: str = LOCAL_REGION) -> Any:
    import boto3

    # The stubs type each service name as a literal; this helper takes the name at run time.
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region)  # type: ignore[call-overload]


def _ensure_queue(sqs: Any, name: str, attributes: dict[str, str]) -> tuple[str, str]:
    try:
        url = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except sqs.exceptions.QueueDoesNotExist:
        url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
    if attributes:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, str(arn["QueueArn"])


def _ensure_bucket(s3: Any, name: str, region: str) -> None:
    try:
        s3.head_bucket(Bucket=name)
        return
    except Exception:  # noqa: S110 - missing: create it below
        pass
    if region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})


def bootstrap(
    endpoint_url: str,
    *,
    fernet_key: str,
    region: str = LOCAL_REGION,
    visibility_timeout_s: int = RELOAD_VISIBILITY_TIMEOUT_S,
) -> LocalAwsResources:
    """Create (or bring up to date) the reload and ingestion queues with their DLQs, the files
    bucket and the local secret."""
    sqs = aws_client("sqs", endpoint_url, region)
    dlq_url, dlq_arn = _ensure_queue(sqs, RELOAD_DLQ, {})
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
    queue_url, queue_arn = _ensure_queue(
        sqs,
        RELOAD_QUEUE,
        {"VisibilityTimeout": str(visibility_timeout_s), "RedrivePolicy": json.dumps(redrive)},
    )
    ingest_dlq_url, ingest_dlq_arn = _ensure_queue(sqs, INGEST_DLQ, {})
    ingest_redrive = {
        "deadLetterTargetArn": ingest_dlq_arn,
        "maxReceiveCount": str(MAX_RECEIVE_COUNT),
    }
    ingest_url, _ = _ensure_queue(
        sqs,
        INGEST_QUEUE,
        {
            "VisibilityTimeout": str(INGEST_VISIBILITY_TIMEOUT_S),
            "RedrivePolicy": json.dumps(ingest_redrive),
        },
    )
    _ensure_bucket(aws_client("s3", endpoint_url, region), FILES_BUCKET, region)
    secrets = aws_client("secretsmanager", endpoint_url, region)
    secret = json.dumps({"crypto__fernet_keys": fernet_key})
    try:
        secrets.create_secret(
            Name=LOCAL_SECRET_ID,
            Description="AgentHub local stack: the local Fernet key",
            SecretString=secret,
        )
    except secrets.exceptions.ResourceExistsException:
        secrets.put_secret_value(SecretId=LOCAL_SECRET_ID, SecretString=secret)
    return LocalAwsResources(
        endpoint_url=endpoint_url,
        queue_url=queue_url,
        queue_arn=queue_arn,
        dlq_url=dlq_url,
        dlq_arn=dlq_arn,
        secret_id=LOCAL_SECRET_ID,
        ingest_queue_url=ingest_url,
        ingest_dlq_url=ingest_dlq_url,
    )


def aws_credentials_configured(environ: Mapping[str, str]) -> bool:
    """True when boto3 would find credentials without asking the instance metadata service."""
    if environ.get("AWS_ACCESS_KEY_ID") or environ.get("AWS_PROFILE"):
        return True
    shared = environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    config = environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    return any(Path(name).expanduser().is_file() for name in (shared, config))


def local_credentials_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Dummy credentials and a region, only where nothing is configured (moto takes any)."""
    env: dict[str, str] = {}
    if not aws_credentials_configured(environ):
        env.update(DUMMY_CREDENTIALS)
    if not environ.get("AWS_REGION") and not environ.get("AWS_DEFAULT_REGION"):
        env["AWS_DEFAULT_REGION"] = LOCAL_REGION
    return env


def local_aws_environment(
    resources: LocalAwsResources, environ: Mapping[str, str], *, keep_real_aws_for_others: bool
) -> dict[str, str]:
    """Variables that point the in-process functions at the local endpoint and resources.

    With `keep_real_aws_for_others` (a Bedrock model is configured), only SQS and Secrets
    Manager go to the local endpoint, so Bedrock still reaches AWS.
    """
    env = {
        "AGENTHUB_AWS__ENDPOINT_URL": resources.endpoint_url,
        "AGENTHUB_AWS__RELOAD_QUEUE_URL": resources.queue_url,
        "AGENTHUB_AWS__FILES_BUCKET": resources.files_bucket,
    }
    if resources.ingest_queue_url:
        env["AGENTHUB_AWS__INGEST_QUEUE_URL"] = resources.ingest_queue_url
    if keep_real_aws_for_others:
        env["AWS_ENDPOINT_URL_SQS"] = resources.endpoint_url
        env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = resources.endpoint_url
        env["AWS_ENDPOINT_URL_S3"] = resources.endpoint_url
    else:
        env["AWS_ENDPOINT_URL"] = resources.endpoint_url
    if not environ.get("AGENTHUB_SECRET_IDS") and not environ.get("AGENTHUB_CRYPTO__FERNET_KEYS"):
        env["AGENTHUB_SECRET_IDS"] = resources.secret_id
    return env
