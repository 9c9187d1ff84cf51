#!/usr/bin/env python3
"""Create AgentHub's AWS resources on LocalStack: the reload queue, its DLQ and the local secret.

LocalStack runs this from its ready.d hook (`init-aws.sh`, see localstack-compose.yml); it also
runs by hand against any endpoint:

    python infra/localstack/init_aws.py --endpoint-url http://localhost:4566

The resources are the embedded stack's (`agenthub.local.aws.bootstrap`), under the same names.
This script stands alone (boto3 and the standard library) because the LocalStack container does
not have agenthub installed. Idempotent: existing queues are brought up to date, an existing
secret is kept (replacing its key would make already encrypted LLM API keys unreadable).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

RELOAD_QUEUE = "agenthub-config-reload"
RELOAD_DLQ = "agenthub-config-reload-dlq"
LOCAL_SECRET_ID = "agenthub/local"  # noqa: S105 - the secret's name, not its value
MAX_RECEIVE_COUNT = 3
# The local config_reload consumer's timeout; template.yaml uses 6x its function timeout.
RELOAD_VISIBILITY_TIMEOUT_S = 30
DLQ_RETENTION_S = 14 * 24 * 3600
DEFAULT_ENDPOINT = "http://localhost:4566"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Resources:
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str
    secret_arn: str
    secret_created: bool


def generate_fernet_key() -> str:
    """A Fernet key (32 random bytes, urlsafe base64) without needing `cryptography`."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def ensure_queue(sqs: Any, name: str, attributes: dict[str, str]) -> tuple[str, str]:
    """Create the queue or update an existing one's attributes; returns (url, arn)."""
    try:
        url = str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except sqs.exceptions.QueueDoesNotExist:
        url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, str(arn["QueueArn"])


def ensure_secret(secretsmanager: Any, *, fernet_keys: str) -> tuple[str, bool]:
    """Create the local secret unless it exists; returns (arn, created)."""
    try:
        arn = secretsmanager.describe_secret(SecretId=LOCAL_SECRET_ID)["ARN"]
        return str(arn), False
    except secretsmanager.exceptions.ResourceNotFoundException:
        pass
    created = secretsmanager.create_secret(
        Name=LOCAL_SECRET_ID,
        Description="AgentHub local stack: the Fernet keys that encrypt tenants' LLM API keys",
        SecretString=json.dumps({"crypto__fernet_keys": fernet_keys}),
    )
    return str(created["ARN"]), True


def ensure_resources(sqs: Any, secretsmanager: Any, *, fernet_keys: str) -> Resources:
    dlq_url, dlq_arn = ensure_queue(
        sqs, RELOAD_DLQ, {"MessageRetentionPeriod": str(DLQ_RETENTION_S)}
    )
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
    queue_url, queue_arn = ensure_queue(
        sqs,
        RELOAD_QUEUE,
        {
            "VisibilityTimeout": str(RELOAD_VISIBILITY_TIMEOUT_S),
            "RedrivePolicy": json.dumps(redrive),
        },
    )
    secret_arn, created = ensure_secret(secretsmanager, fernet_keys=fernet_keys)
    return Resources(queue_url, queue_arn, dlq_url, dlq_arn, secret_arn, created)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL", DEFAULT_ENDPOINT),
        help=f"AWS endpoint (AWS_ENDPOINT_URL, default {DEFAULT_ENDPOINT})",
    )
    parser.add_argument(
        "--region",
        default=os.environ.get("AWS_DEFAULT_REGION")
        or os.environ.get("AWS_REGION")
        or DEFAULT_REGION,
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    args = parse_args(argv)
    # LocalStack and moto accept any credentials; boto3 only needs some to sign requests.
    if os.environ.get("AWS_ACCESS_KEY_ID"):
        session = boto3.session.Session(region_name=args.region)
    else:
        session = boto3.session.Session(
            region_name=args.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",  # noqa: S106 - LocalStack's dummy credentials
        )
    sqs = session.client("sqs", endpoint_url=args.endpoint_url)
    secretsmanager = session.client("secretsmanager", endpoint_url=args.endpoint_url)
    # Pass the keys in (AGENTHUB_CRYPTO__FERNET_KEYS) to keep encrypted data readable when the
    # container restarts; otherwise a fresh key (`agenthub dev` replaces it with its own).
    fernet_keys = os.environ.get("AGENTHUB_CRYPTO__FERNET_KEYS") or generate_fernet_key()
    resources = ensure_resources(sqs, secretsmanager, fernet_keys=fernet_keys)
    print(f"agenthub: reload queue {resources.queue_url}")
    print(f"agenthub: dead-letter queue {resources.dlq_url} (after {MAX_RECEIVE_COUNT} receives)")
    state = "created" if resources.secret_created else "kept"
    print(f"agenthub: secret {LOCAL_SECRET_ID} {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
