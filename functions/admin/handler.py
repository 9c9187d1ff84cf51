"""admin Lambda function: API Gateway (REST) -> Mangum -> FastAPI.

The container's imports and first request run with the garbage collector paused
(agenthub.startup).
"""

from agenthub.startup import collector_paused, first_call_with_collector_paused

with collector_paused():
    from agenthub.api.admin import create_admin_app
    from agenthub.api.lambda_adapter import http_handler

handler = first_call_with_collector_paused(http_handler(create_admin_app))
