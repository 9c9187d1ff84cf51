"""chat Lambda function: API Gateway (REST) -> `POST /api/{tenant_id}/chat`.

No web framework on this path, for a lighter cold start (see agenthub.api.chat); logs get
Powertools' Lambda context and the API Gateway request id as correlation id.
"""

from agenthub.api.chat import serve_chat_event
from agenthub.api.lambda_adapter import rest_function

handler = rest_function(serve_chat_event)
