"""The CRM host: a small Flask application that plugins extend through pluggy hooks."""

from host.hookspecs import hookimpl

__all__ = ["hookimpl", "create_app"]


def create_app(test_config=None):
    """Create the application (imported lazily so ``from host import hookimpl`` stays light)."""
    from host.app import create_app as factory

    return factory(test_config)
