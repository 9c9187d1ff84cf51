"""HTTP entry points: FastAPI apps served through Mangum by the Lambda handlers."""
