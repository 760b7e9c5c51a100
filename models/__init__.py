"""Persistence: tables, engine/session wiring, Alembic migrations."""
