"""sessions Lambda function: API Gateway (REST) -> Mangum -> FastAPI (the caller's sessions)."""

from agenthub.api.lambda_adapter import http_handler
from agenthub.api.sessions import create_sessions_app

handler = http_handler(create_sessions_app)
