"""The OpenAPI 3 description of /api/. Tests validate every API response against it."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/responses/Error"}
_ID = {"type": "integer", "minimum": 1}


_POST_SUMMARY: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "url", "domain", "author", "created", "score", "comment_count"],
    "properties": {
        "id": _ID,
        "title": {"type": "string", "maxLength": 200},
        "url": {"type": "string", "format": "uri", "nullable": True},
        "domain": {"type": "string", "nullable": True},
        "author": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "score": {"type": "integer"},
        "comment_count": {"type": "integer", "minimum": 0},
    },
}


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _ID}


def _json(schema_name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def _write(summary: str, request: str | None, ok_status: str, ok_schema: str, ok_text: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": [{"token": []}, {"session": []}],
        "responses": {
            ok_status: {"description": ok_text, "content": _json(ok_schema)},
            "400": _ERROR,
            "401": _ERROR,
            "403": _ERROR,
            "404": _ERROR,
            "413": _ERROR,
            "415": _ERROR,
        },
    }
    if request:
        operation["requestBody"] = {"required": True, "content": _json(request)}
    return operation


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Scaleboard API",
            "version": "1.0.0",
            "description": "Posts, comments and votes. Reads are public. Writes need a session (with the "
            "X-CSRFToken header) or a personal token from /settings/tokens: `Authorization: Token <token>`.",
        },
        "paths": {
            "/api/posts": {
                "get": {
                    "summary": "List posts, newest page first, with cursor pagination",
                    "parameters": [
                        {
                            "name": "sort",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["hot", "new"], "default": "hot"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 30},
                        },
                        {
                            "name": "cursor",
                            "in": "query",
                            "schema": {"type": "string"},
                            "description": "next_cursor of the previous page",
                        },
                    ],
                    "responses": {
                        "200": {"description": "A page of posts", "content": _json("PostPage")},
                        "400": _ERROR,
                    },
                },
                "post": _write("Submit a post", "PostCreate", "201", "Post", "The new post"),
            },
            "/api/posts/{post_id}": {
                "parameters": [_path_id("post_id")],
                "get": {
                    "summary": "One post",
                    "responses": {
                        "200": {"description": "The post", "content": _json("Post")},
                        "404": _ERROR,
                    },
                },
            },
            "/api/posts/{post_id}/comments": {
                "parameters": [_path_id("post_id")],
                "get": {
                    "summary": "All comments of a post, depth-first (replies follow their parent)",
                    "responses": {
                        "200": {"description": "The comment thread", "content": _json("CommentList")},
                        "404": _ERROR,
                    },
                },
                "post": _write(
                    "Comment on a post or reply to a comment",
                    "CommentCreate",
                    "201",
                    "Comment",
                    "The new comment",
                ),
            },
            "/api/posts/{post_id}/vote": {
                "parameters": [_path_id("post_id")],
                "post": _write(
                    "Vote for a post; voting again takes the vote back",
                    None,
                    "200",
                    "VoteResult",
                    "The vote state and new score",
                ),
            },
            "/api/comments/{comment_id}/vote": {
                "parameters": [_path_id("comment_id")],
                "post": _write(
                    "Vote for a comment; voting again takes the vote back",
                    None,
                    "200",
                    "VoteResult",
                    "The vote state and new score",
                ),
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
                "PostCreate": {
                    "type": "object",
                    "required": ["title"],
                    "description": "Exactly one of url and body.",
                    "properties": {
                        "title": {"type": "string", "maxLength": 200},
                        "url": {"type": "string", "format": "uri", "maxLength": 2000},
                        "body": {"type": "string", "maxLength": 20000},
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
                "CommentCreate": {
                    "type": "object",
                    "required": ["body"],
                    "properties": {
                        "body": {"type": "string", "maxLength": 10000},
                        "parent_id": {"type": "integer", "nullable": True},
                    },
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
