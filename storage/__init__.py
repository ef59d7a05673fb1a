"""Persistence: SQLAlchemy models, migrations and every query the product runs."""
