"""Test support: real loopback servers (fake LLM provider, demo business API)."""
