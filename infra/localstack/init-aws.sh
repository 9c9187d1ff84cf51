#!/bin/bash
# LocalStack ready.d hook: AgentHub's reload queue, DLQ and secret (init_aws.py, mounted beside).
exec "$([ -x /opt/code/localstack/.venv/bin/python ] && echo /opt/code/localstack/.venv/bin/python || echo python3)" /opt/agenthub/init_aws.py
