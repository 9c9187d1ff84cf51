#!/bin/sh
# Started by the AWS Lambda Web Adapter (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap, Handler run.sh):
# serve app.py's ASGI app on the adapter's port. The adapter forwards each invocation to it as an
# HTTP request and, with AWS_LWA_INVOKE_MODE=response_stream, streams the response back.
# uvicorn comes with this function (see Makefile); the agenthub package from the runtime layer.
export PYTHONPATH="${LAMBDA_TASK_ROOT:-.}:/opt/python${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m uvicorn app:app \
    --host 127.0.0.1 --port "${AWS_LWA_PORT:-8080}" \
    --lifespan off --no-access-log --log-level warning --timeout-keep-alive 75
