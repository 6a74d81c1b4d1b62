"""Request names the locustfile and the benches agree on."""

# Signing in hashes a password on purpose (~0.5-1 s of CPU) and happens once per user: it would
# dominate p95 of a short run without saying anything about serving the board.
SETUP_REQUESTS = frozenset({"/login", "POST /login", "/settings/tokens", "POST /settings/tokens"})
