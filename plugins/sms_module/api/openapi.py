"""The REST API's OpenAPI description, served at ``/api/v1/openapi.json``."""

from __future__ import annotations

from plugins.sms_module.api.inputs import ID_MAX, KEY_MAX
from plugins.sms_module.models import Queue, Status

# An id column's range (issue 13, point 4): beyond, the API answers 400 or 404.
ID = {"type": "integer", "minimum": 1, "maximum": ID_MAX}

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "message_id": {"type": "integer"},
            },
        }
    },
}

STATUS = {"type": "string", "enum": [status.value for status in Status]}
QUEUES = {"type": "string", "enum": [queue.value for queue in Queue]}

CREATED = {
    "type": "object",
    "required": ["id", "status", "segments", "encoding", "price"],
    "properties": {
        "id": {"type": "integer"},
        "status": STATUS,
        "segments": {"type": "integer", "minimum": 0},
        "encoding": {"type": "string", "enum": ["GSM-7", "UCS-2"]},
        "price": {"type": "string", "pattern": r"^\d+(\.\d+)?$"},
        "currency": {"type": "string"},
        "send_at": {"type": "string", "format": "date-time"},
    },
}

MESSAGE = {
    "type": "object",
    "required": ["id", "status", "history", "phone", "body", "queue", "segments", "encoding"],
    "properties": {
        **CREATED["properties"],
        "customer_id": {"type": ["integer", "null"]},
        "phone": {"type": "string"},
        "body": {"type": "string"},
        "queue": QUEUES,
        "failure_code": {"type": ["string", "null"]},
        "failure_reason": {"type": ["string", "null"]},
        "refused": {
            "type": "boolean",
            "description": "true: Failed because a rule refused it before the carrier had "
            "it (no consent, opted out, module off…; failure_code is the rule's); false: "
            "any other status, or the carrier's failure",
        },
        "sender_number": {"type": ["string", "null"]},
        "attempts": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "history": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "at", "source"],
                "properties": {
                    "status": STATUS,
                    "at": {"type": "string", "format": "date-time"},
                    "source": {"type": "string"},
                    "detail": {"type": ["string", "null"]},
                },
            },
        },
    },
}

SEGMENTS = {
    "type": "object",
    "required": ["encoding", "units", "segments", "unicode_characters", "price"],
    "properties": {
        "encoding": {"type": "string", "enum": ["GSM-7", "UCS-2"]},
        "units": {"type": "integer", "minimum": 0},
        "segments": {"type": "integer", "minimum": 0},
        "unicode_characters": {"type": "array", "items": {"type": "string"}},
        "price": {"type": "string"},
        "currency": {"type": "string"},
        "replacements": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}


def _json(schema_ref: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}


def _errors(*codes: int) -> dict:
    return {str(c): {"description": "Refused", "content": _json("Error")} for c in codes}


SPEC = {
    "openapi": "3.1.0",
    "info": {
        "title": "Shop CRM SMS API",
        "version": "1.0.0",
        "description": "Send SMS to a shop's customers and follow their status. "
        "Authenticate with a shop token: `Authorization: Bearer crm_…`.",
    },
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {"shopToken": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": ERROR,
            "Created": CREATED,
            "Message": MESSAGE,
            "Segments": SEGMENTS,
            "SendRequest": {
                "type": "object",
                "required": ["body"],
                "examples": [{"to": "514 555 0101", "body": "Your car is ready."}],
                "properties": {
                    "customer_id": ID,
                    "to": {
                        "type": "string",
                        "maxLength": 40,
                        "description": "E.164 or national number",
                    },
                    "body": {"type": "string", "maxLength": 1600},
                    "queue": QUEUES,
                    "send_at": {
                        "type": "string",
                        "format": "date-time",
                        "description": "between the years 1900 and 2100",
                    },
                },
            },
            "SegmentsRequest": {
                "type": "object",
                "required": ["body"],
                "properties": {"body": {"type": "string"}},
            },
        },
    },
    "security": [{"shopToken": []}],
    "paths": {
        "/sms/messages": {
            "post": {
                "summary": "Send an SMS to a customer of the shop",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "description": "Names one request: the same key with the same body "
                        "answers the first message (200); with another body, 422 "
                        "idempotency_key_reused. Printable ASCII, at most "
                        f"{KEY_MAX} characters (longer: 422 idempotency_key_too_long).",
                        "schema": {"type": "string", "maxLength": KEY_MAX, "pattern": "^[ -~]*$"},
                    }
                ],
                "requestBody": {"required": True, "content": _json("SendRequest")},
                "responses": {
                    "201": {"description": "Accepted and scheduled", "content": _json("Created")},
                    "200": {
                        "description": "Already accepted (same Idempotency-Key)",
                        "content": _json("Created"),
                    },
                    **_errors(400, 401, 404, 413, 422),
                },
            }
        },
        "/sms/messages/{id}": {
            "get": {
                "summary": "A message's status and history",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": ID}],
                "responses": {
                    "200": {"description": "The message", "content": _json("Message")},
                    **_errors(401, 404),
                },
            }
        },
        "/sms/segments": {
            "post": {
                "summary": "Count the segments and price of a text",
                "requestBody": {"required": True, "content": _json("SegmentsRequest")},
                "responses": {
                    "200": {"description": "The count", "content": _json("Segments")},
                    **_errors(400, 401, 413, 422),
                },
            }
        },
    },
}
