"""The data, bottom layer: message, domain and config types; tables; the store (all SQL);
engine wiring and Alembic migrations."""
