"""chat Lambda function: API Gateway (REST) -> `POST /api/{tenant_id}/chat`.

No web framework on this path, for a lighter cold start (see agenthub.api.chat); logs get
Powertools' Lambda context and the API Gateway request id as correlation id. The container's
imports and first request run with the garbage collector paused (agenthub.startup).
"""

from agenthub.startup import collector_paused, first_call_with_collector_paused

with collector_paused():
    from agenthub.api.chat import serve_chat_event
    from agenthub.api.lambda_adapter import rest_function

handler = first_call_with_collector_paused(rest_function(serve_chat_event))
