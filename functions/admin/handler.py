"""admin Lambda function: API Gateway (REST) -> Mangum -> FastAPI."""

from agenthub.api.admin import create_admin_app
from agenthub.api.lambda_adapter import http_handler

handler = http_handler(create_admin_app)
