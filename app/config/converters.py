"""Path converters shared by every URLconf."""

from __future__ import annotations

# PostgreSQL's bigint, the type of every primary key (DEFAULT_AUTO_FIELD is BigAutoField).
MAX_ID = 2**63 - 1


class DatabaseId:
    """`<id:name>`: a positive id that fits a bigint. Anything else matches no URL (404) before any SQL runs."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise ValueError(f"{value} is not a database id")  # Django treats this as "no match"
        return number

    def to_url(self, value: int) -> str:
        return str(value)
