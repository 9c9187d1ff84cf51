"""chat_stream Lambda function: API Gateway (REST, response streaming) -> Lambda Web Adapter ->
uvicorn (run.sh) -> FastAPI (`POST /api/{tenant_id}/chat/stream`, server-sent events).

Python Lambda handlers cannot stream; the adapter runs this ASGI app as a web server instead and
streams its response back through API Gateway. Locally, the gateway serves `app` directly. The
imports and the app's construction run with the garbage collector paused (agenthub.startup).
"""

from agenthub.startup import collector_paused

with collector_paused():
    from agenthub.api.chat_stream import create_chat_stream_app

    app = create_chat_stream_app()
