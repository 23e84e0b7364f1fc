"""The host's published surface: everything a plugin may use from the host, in one module.

A plugin imports from ``host.api`` only, never from the host's other modules, which may
change shape without notice (``lint-imports`` holds the plugins to it). The names, grouped
as in ``docs/plugin_hooks.md`` ("The host's published surface"):

- the marker of hook implementations: ``hookimpl``;
- the value types plugins hand to hooks: ``MenuLink``, ``ShopOption``, ``CustomerTab``,
  ``CustomerField``, ``PeriodicTask``, ``Report``, ``Chart``, ``ReportDetail``, ``CsvText``;
- the data: ``db``, the models and their types, ``utcnow`` and ``option_enabled`` (also
  as SQL: ``option_enabled_sql``);
  ``HostEvent``, the host's event log (the hooks' ``event_id``);
- pages: ``csrf``, the access helpers, ``customer_tabs``, ``ShopForm`` and its rule for
  text read without one (``text_problem``), ``csv_response``,
  ``csv_lines`` and ``spreadsheet_cell`` (CSV exports safe in a spreadsheet);
- shop time and display: ``shop_zone`` (also ``Company.zone``), ``localtime``,
  ``format_phone``;
- phones: ``normalize_phone``, ``InvalidPhone``;
- e-mail: ``send_mail``, ``mail_configured``, ``MailNotConfigured``;
- Redis and RQ: ``get_redis``, ``get_queue``, ``redis_url_of``, and ``platform_now`` (Redis's
  clock, by which every due time is judged).
"""

from host.access import (
    current_shop,
    get_in_shop_or_404,
    local_path,
    roles_required,
    shop_filter,
    shop_required,
)
from host.clock import platform_now
from host.csv_export import csv_lines, csv_response, spreadsheet_cell
from host.event_log import HostEvent
from host.extension_points import (
    Chart,
    CsvText,
    CustomerField,
    CustomerTab,
    MenuLink,
    PeriodicTask,
    Report,
    ReportDetail,
    ShopOption,
)
from host.extensions import csrf, db
from host.forms import FIRST_YEAR, LAST_YEAR, ShopForm, text_problem
from host.hookspecs import hookimpl
from host.mail import MailNotConfigured, mail_configured, send_mail
from host.models import (
    Appointment,
    AppointmentStatus,
    Company,
    CompanyOption,
    Customer,
    Invoice,
    LegacySmsLog,
    Role,
    User,
    UTCDateTime,
    option_enabled,
    option_enabled_sql,
    shop_zone,
    utcnow,
)
from host.phones import InvalidPhone, format_phone, normalize_phone
from host.redis_connection import get_queue, get_redis, redis_url_of
from host.regions import province_name, region_name, zone_label
from host.templating import localdate, localhour, localtime, money, reader_locale
from host.templating import status_label as appointment_status_label
from host.views.customers import customer_tabs

__all__ = [
    # hooks
    "hookimpl",
    # value types handed to hooks
    "Chart",
    "CsvText",
    "CustomerField",
    "CustomerTab",
    "MenuLink",
    "PeriodicTask",
    "Report",
    "ReportDetail",
    "ShopOption",
    # data
    "db",
    "Appointment",
    "appointment_status_label",
    "AppointmentStatus",
    "Company",
    "CompanyOption",
    "Customer",
    "HostEvent",
    "Invoice",
    "LegacySmsLog",
    "Role",
    "User",
    "UTCDateTime",
    "option_enabled",
    "option_enabled_sql",
    "utcnow",
    # pages
    "csrf",
    "current_shop",
    "customer_tabs",
    "get_in_shop_or_404",
    "local_path",
    "roles_required",
    "shop_filter",
    "shop_required",
    "ShopForm",
    "text_problem",
    "FIRST_YEAR",
    "LAST_YEAR",
    "csv_lines",
    "csv_response",
    "spreadsheet_cell",
    # shop time and display
    "format_phone",
    "localdate",
    "localhour",
    "localtime",
    "money",
    "province_name",
    "reader_locale",
    "region_name",
    "shop_zone",
    "zone_label",
    # phones
    "InvalidPhone",
    "normalize_phone",
    # e-mail
    "MailNotConfigured",
    "mail_configured",
    "send_mail",
    # Redis and RQ
    "get_queue",
    "get_redis",
    "redis_url_of",
    "platform_now",
]
