"""admin Lambda function: API Gateway (REST) -> Mangum -> FastAPI."""

from agenthub.api.lambda_adapter import http_handler, not_implemented_app

handler = http_handler(lambda: not_implemented_app("admin"))
