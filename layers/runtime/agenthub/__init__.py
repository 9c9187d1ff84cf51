"""AgentHub runtime package."""
