"""PostgreSQL adapter: ORM models, engine and sessions, LangGraph checkpointer."""
