"""Repositories: the only code that reads or writes the database (all SQL lives here)."""
