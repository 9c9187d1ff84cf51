"""The tenant config cache: in-process L1 by config version, Redis L2, PostgreSQL behind."""
