"""chat Lambda function: API Gateway (REST) -> Mangum -> FastAPI (`POST /api/{tenant_id}/chat`)."""

from agenthub.api.chat import create_chat_app
from agenthub.api.lambda_adapter import http_handler

handler = http_handler(create_chat_app)
