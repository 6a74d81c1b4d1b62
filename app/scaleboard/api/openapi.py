"""The OpenAPI 3 description of /api/. Request bodies and parameters come from scaleboard.api.schemas, which
the views validate with; tests validate every API response against this document, and a fuzzer runs it."""

from __future__ import annotations

from typing import Any

from scaleboard.api import schemas
from scaleboard.board.selectors import MAX_CURSOR_LENGTH, SORTS

_ERROR = {"$ref": "#/components/responses/Error"}
_ID = schemas.ID.schema()
# Any answer may be 503 (the database is unavailable), or 414 (a URL over the web server's request-line
# limit: gunicorn's or nginx's own answer, before the app sees the request). Writes may also be refused for
# their rate.
_ALWAYS = {"414": {"$ref": "#/components/responses/UriTooLong"}, "503": _ERROR}


_POST_SUMMARY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "url", "domain", "author", "created", "score", "comment_count"],
    "properties": {
        "id": _ID,
        "title": {"type": "string", "maxLength": 200},
        "url": {"type": "string", "nullable": True, "description": "http(s) URL, as submitted"},
        "domain": {"type": "string", "nullable": True},
        "author": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "score": {"type": "integer"},
        "comment_count": {"type": "integer", "minimum": 0},
    },
}


_TOKEN: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "prefix", "created", "last_used", "expires"],
    "properties": {
        "id": _ID,
        "name": {"type": "string"},
        "prefix": {"type": "string", "description": "The token's first characters, to tell tokens apart"},
        "created": {"type": "string", "format": "date-time"},
        "last_used": {"type": "string", "format": "date-time", "nullable": True},
        "expires": {"type": "string", "format": "date-time", "nullable": True},
    },
}


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


def _read(summary: str, ok_text: str, ok_schema: str, *errors: str) -> dict[str, Any]:
    responses = {"200": {"description": ok_text, "content": _json(ok_schema)}}
    return {"summary": summary, "responses": {**responses, **{status: _ERROR for status in errors}, **_ALWAYS}}


def _json(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def _write(summary: str, request: str | None, ok_status: str, ok_schema: str | None, ok_text: str) -> dict[str, Any]:
    ok: dict[str, Any] = {"description": ok_text}
    if ok_schema:
        ok["content"] = _json(ok_schema)
    errors = ["401", "403", "404", "429"] + (["400", "409", "413", "415"] if request else [])
    operation: dict[str, Any] = {
        "summary": summary,
        "security": [{"token": []}, {"session": []}],
        "responses": {ok_status: ok, **{status: _ERROR for status in sorted(errors)}, **_ALWAYS},
    }
    if request:
        operation["requestBody"] = {"required": True, "content": _json(request)}
    return operation


def _vote(thing: str, id_name: str) -> dict[str, Any]:
    return {
        "parameters": [_path_id(id_name)],
        "put": _write(f"Vote for a {thing}; voting again changes nothing", None, "200", "VoteResult", "The vote"),
        "delete": _write(
            f"Take back your vote on a {thing}; again changes nothing", None, "200", "VoteResult", "The vote"
        ),
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Scaleboard API",
            "version": "2.0.0",
            "description": "Posts, comments and votes. Reads are public. Writes need a session (with the "
            "X-CSRFToken header) or a personal token from /settings/tokens: `Authorization: Token <token>`. "
            "Every answer is JSON; errors are {error, fields?}. Unknown fields in a body are refused (400). "
            "Writes are rate limited per user and per client address (429 with Retry-After).",
        },
        "paths": {
            "/api/posts": {
                "get": {
                    **_read(
                        "List posts, a page at a time, with cursor pagination", "A page of posts", "PostPage", "400"
                    ),
                    "parameters": [
                        {
                            "name": "sort",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(SORTS), "default": "hot"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {**schemas.LIMIT.schema(), "default": schemas.DEFAULT_LIMIT},
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "schema": {"type": "string", "maxLength": MAX_CURSOR_LENGTH},
                            "description": "next_cursor of the previous page (same sort); any other string is a 400",
                        },
                    ],
                },
                "post": _write("Submit a post", "PostCreate", "201", "Post", "The new post"),
            },
            "/api/posts/{post_id}": {
                "parameters": [_path_id("post_id")],
                "get": _read("One post", "The post", "Post", "404"),
            },
            "/api/posts/{post_id}/comments": {
                "parameters": [_path_id("post_id")],
                "get": _read(
                    "All comments of a post, depth-first (replies follow their parent)",
                    "The comment thread",
                    "CommentList",
                    "404",
                ),
                "post": _write(
                    "Comment on a post or reply to a comment (409: parent_id is not a comment on this post)",
                    "CommentCreate",
                    "201",
                    "Comment",
                    "The new comment",
                ),
            },
            "/api/posts/{post_id}/vote": _vote("post", "post_id"),
            "/api/comments/{comment_id}/vote": _vote("comment", "comment_id"),
            "/api/tokens": {
                "get": {
                    **_write("Your personal API tokens (never the secret)", None, "200", "TokenList", "Your tokens"),
                },
                "post": _write(
                    "Create a personal API token; the answer holds the secret, shown only this once",
                    "TokenCreate",
                    "201",
                    "NewToken",
                    "The new token and its secret",
                ),
            },
            "/api/tokens/{token_id}": {
                "parameters": [_path_id("token_id")],
                "delete": _write("Revoke one of your tokens; it stops working at once", None, "204", None, "Revoked"),
            },
        },
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Token <your token>`",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
            },
            "responses": {
                "Error": {
                    "description": "The request was refused; `error` says why",
                    "content": _json("Error"),
                },
                "UriTooLong": {
                    "description": "The URL is longer than the web server accepts (about 4 KB); answered by the "
                    "server in front of the app, as a plain page, not JSON",
                },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "additionalProperties": False,
                    "properties": {
                        "error": {"type": "string"},
                        "fields": {
                            "type": "object",
                            "description": "Messages per invalid field",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                    },
                },
                "PostSummary": _POST_SUMMARY,
                "Post": {
                    **_POST_SUMMARY,
                    "required": [*_POST_SUMMARY["required"], "body"],
                    "properties": {
                        **_POST_SUMMARY["properties"],
                        "body": {"type": "string", "nullable": True},
                    },
                },
                "PostPage": {
                    "type": "object",
                    "required": ["items", "next_cursor"],
                    "additionalProperties": False,
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/PostSummary"}},
                        "next_cursor": {"type": "string", "nullable": True},
                    },
                },
                "Comment": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "post_id", "parent_id", "author", "body", "created", "score", "depth"],
                    "properties": {
                        "id": _ID,
                        "post_id": _ID,
                        "parent_id": {"type": "integer", "nullable": True},
                        "author": {"type": "string"},
                        "body": {"type": "string"},
                        "created": {"type": "string", "format": "date-time"},
                        "score": {"type": "integer"},
                        "depth": {"type": "integer", "minimum": 0},
                    },
                },
                "CommentList": {
                    "type": "object",
                    "required": ["items"],
                    "additionalProperties": False,
                    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}}},
                },
                **{body.name: body.schema() for body in schemas.BODIES},
                "Token": _TOKEN,
                "NewToken": {
                    **_TOKEN,
                    "required": [*_TOKEN["required"], "token"],
                    "properties": {**_TOKEN["properties"], "token": {"type": "string"}},
                },
                "TokenList": {
                    "type": "object",
                    "required": ["items"],
                    "additionalProperties": False,
                    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}}},
                },
                "VoteResult": {
                    "type": "object",
                    "required": ["voted", "score"],
                    "additionalProperties": False,
                    "properties": {"voted": {"type": "boolean"}, "score": {"type": "integer"}},
                },
            },
        },
    }
