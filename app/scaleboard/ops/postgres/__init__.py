"""Django's PostgreSQL backend with a round-trip-free health check and fast timestamps (see base.py)."""
