"""Bring a machine from a fresh clone to a ready platform: PostgreSQL, databases, runtime env."""
