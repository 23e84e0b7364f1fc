"""The reports plugin's hook implementations."""

from flask_babel import lazy_gettext as _l

from host.api import MenuLink, hookimpl
from plugins.reports.views import bp


@hookimpl
def register_blueprints():
    return [bp]


@hookimpl
def menu_links(user):
    return [MenuLink(_l("Reports"), "reports.index", 60)]
