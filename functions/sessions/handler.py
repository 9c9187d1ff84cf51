"""sessions Lambda function: API Gateway (REST) -> Mangum -> FastAPI (the caller's sessions).

The container's imports and first request run with the garbage collector paused
(agenthub.startup).
"""

from agenthub.startup import collector_paused, first_call_with_collector_paused

with collector_paused():
    from agenthub.api.lambda_adapter import http_handler
    from agenthub.api.sessions import create_sessions_app

handler = first_call_with_collector_paused(http_handler(create_sessions_app))
