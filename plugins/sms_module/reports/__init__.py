"""The SMS module's report definitions, collected by the reports plugin (PRODUCT.md §11).

Owns the status report (``status``), the message log and each message's detail (``log``),
segments and cost (``cost``), delivery performance and error codes (``delivery``), and the
consent and opt-out registers (``registers``); the filters they share (``filters``) and
the queries and formatting they share (``sql``). ``all_reports`` lists them for the hook.

Each report reads with a fixed number of queries, never one query per row, and only the
rows of the viewer's shop: ``company`` is the shop, ``None`` for the platform operator
(every shop). None reads the whole table (issue 14, point 2): the status, cost, delivery
and error-code reports add up the summary rows the database keeps per day (``summary``);
the message log and the registers read a page by keyset through an index in their order
(``paging``), and their CSV is streamed (written by PostgreSQL itself: ``csv_sql``).

Days and months are those of the shop's time zone for a shop's users, and UTC for the
operator; the ``from`` and ``to`` filters (YYYY-MM-DD, both included) use the same zone.
A filter value the report cannot use is ignored, and the page says so (``check_filters``).
"""

from __future__ import annotations

from host.api import Report
from plugins.sms_module.reports.cost import COST_COLUMNS, cost_report, cost_rows
from plugins.sms_module.reports.delivery import (
    DELIVERY_COLUMNS,
    ERROR_COLUMNS,
    delivery_report,
    delivery_rows,
    error_codes_report,
    error_rows,
    percentile,
)
from plugins.sms_module.reports.filters import CHOICES, Criteria, check_filters, read_filters
from plugins.sms_module.reports.log import LOG_COLUMNS, log_rows, message_detail, message_log
from plugins.sms_module.reports.registers import (
    OPT_OUT_COLUMNS,
    consent_register,
    opt_out_register,
    opt_out_rows,
)
from plugins.sms_module.reports.sql import NO_REPORT
from plugins.sms_module.reports.status import (
    STATUS_COLORS,
    STATUS_COLUMNS,
    STATUS_ORDER,
    status_report,
    status_rows,
)

__all__ = [
    "CHOICES",
    "COST_COLUMNS",
    "DELIVERY_COLUMNS",
    "ERROR_COLUMNS",
    "LOG_COLUMNS",
    "NO_REPORT",
    "OPT_OUT_COLUMNS",
    "STATUS_COLORS",
    "STATUS_COLUMNS",
    "STATUS_ORDER",
    "Criteria",
    "all_reports",
    "check_filters",
    "consent_register",
    "cost_report",
    "cost_rows",
    "delivery_report",
    "delivery_rows",
    "error_codes_report",
    "error_rows",
    "log_rows",
    "message_detail",
    "message_log",
    "opt_out_register",
    "opt_out_rows",
    "percentile",
    "read_filters",
    "status_report",
    "status_rows",
]


def all_reports() -> list[Report]:
    """Return every report of the SMS module (the ``register_reports`` hook's answer)."""
    return [
        consent_register(),
        opt_out_register(),
        status_report(),
        message_log(),
        cost_report(),
        delivery_report(),
        error_codes_report(),
    ]
