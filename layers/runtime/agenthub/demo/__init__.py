"""The demo business systems (ERP debt, logistics shipments) that AgentHub's demo tools call."""

from agenthub.demo.business_api import create_business_api

__all__ = ["create_business_api"]
