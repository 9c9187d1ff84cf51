"""Use cases: orchestrate repositories, adapters and the domain (one module per use case)."""
