"""The one-command local stack (`agenthub dev`): embedded services, a local API gateway that
serves template.yaml's routes with the real handlers, the SQS poller and the schedule.

Development only: never imported by a Lambda function (uvicorn and moto are dev dependencies).
"""
