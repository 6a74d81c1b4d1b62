"""The current request's id, visible to log records from any code the request runs."""

from contextvars import ContextVar

current_request_id: ContextVar[str] = ContextVar("current_request_id", default="-")
