"""The SMS module's hook implementations (thin: the logic lives in services)."""

from host import hookimpl


@hookimpl
def register_queues():
    return ["transactional", "promotional"]
