"""Persistence: the typed models, the database engine, and the indexes over passages."""
