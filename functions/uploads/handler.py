"""uploads Lambda function: API Gateway (REST) -> Mangum -> FastAPI (`/api/{tenant_id}/uploads`)."""

from agenthub.api.lambda_adapter import http_handler
from agenthub.api.uploads import REQUEST_CAP_BYTES, create_uploads_app

handler = http_handler(create_uploads_app, max_body_bytes=REQUEST_CAP_BYTES)
