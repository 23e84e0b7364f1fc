"""The seam between accepting a message and sending it.

The send service calls ``message_scheduled`` after committing a Scheduled message;
the sending pipeline (queues, sender numbers, carrier) takes it from there. Until a
pipeline is installed, a Scheduled message simply waits in the database, which stays
the source of truth either way.
"""

from __future__ import annotations

from flask import current_app


def message_scheduled(message_id: int) -> None:
    """Hand the committed Scheduled message ``message_id`` to the sending pipeline."""
    pipeline = current_app.extensions.get("sms_pipeline")
    if pipeline is not None:
        pipeline.message_scheduled(message_id)
