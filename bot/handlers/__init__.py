"""Telegram handlers, grouped by what users do."""
