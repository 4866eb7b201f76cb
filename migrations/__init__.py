"""Alembic revisions: the only place Parley's tables are created or changed."""
