"""uploads Lambda function: API Gateway (REST) -> Mangum -> FastAPI (`/api/{tenant_id}/uploads`).

The container's imports and first request run with the garbage collector paused
(agenthub.startup).
"""

from agenthub.startup import collector_paused, first_call_with_collector_paused

with collector_paused():
    from agenthub.api.lambda_adapter import http_handler
    from agenthub.api.uploads import REQUEST_CAP_BYTES, create_uploads_app

handler = first_call_with_collector_paused(
    http_handler(create_uploads_app, max_body_bytes=REQUEST_CAP_BYTES)
)
