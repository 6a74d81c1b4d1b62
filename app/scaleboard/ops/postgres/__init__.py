"""Django's PostgreSQL backend with fast timestamps and the safeguards of server-side binding (base.py)."""
