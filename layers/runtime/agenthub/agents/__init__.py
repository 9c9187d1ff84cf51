"""The LangGraph runtime: supervisor graph, domain agents, memory and output shaping."""
