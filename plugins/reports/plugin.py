"""The reports plugin's hook implementations."""

from flask_babel import lazy_gettext as _l

from host import hookimpl
from host.extension_points import MenuLink


@hookimpl
def register_blueprints():
    from plugins.reports.views import bp

    return [bp]


@hookimpl
def menu_links(user):
    return [MenuLink(_l("Reports"), "reports.index", 60)]
