"""The SMS module's data: what is stored, and the statuses a message moves through.

Owns the tables (messages and their history, the consent ledger, the opt-out list, sender
numbers and conversations, the operator's and shops' settings, campaigns), the one table
of status transitions (``statuses``) and the moves along it (``lifecycle``: ``fail`` is the
only way to a failure), and the enums of kind, direction, source and failure (``codes``).
Nothing here sends, checks a rule or renders a text; every other package of the module
builds on these names, re-exported here.
"""

from plugins.sms_module.models.audits import SmsCarrierAudit
from plugins.sms_module.models.campaigns import SmsCampaign
from plugins.sms_module.models.codes import (
    Direction,
    FailureCode,
    Guard,
    Kind,
    Source,
    Withdrawal,
)
from plugins.sms_module.models.compliance import (
    AppendOnlyError,
    ConsentEvent,
    ConsentKind,
    ConsentMethod,
    OptOut,
    OptOutAction,
    OptOutEvent,
)
from plugins.sms_module.models.messages import Queue, SmsMessage, SmsStatusChange
from plugins.sms_module.models.senders import Conversation, SenderNumber
from plugins.sms_module.models.settings import (
    ApiToken,
    PlatformSettings,
    ShopSmsSettings,
    SmsTemplate,
)
from plugins.sms_module.models.statuses import Status

# Imported after the tables it moves: the status transitions of a message.
from plugins.sms_module.models import lifecycle  # noqa: E402  isort: skip

# The report summaries' tables, and the SQLite functions their triggers call (issue 14).
from plugins.sms_module.models import report_sql, report_tables  # noqa: E402, F401  isort: skip

__all__ = [
    "ApiToken",
    "AppendOnlyError",
    "ConsentEvent",
    "ConsentKind",
    "ConsentMethod",
    "Conversation",
    "Direction",
    "FailureCode",
    "Guard",
    "Kind",
    "OptOut",
    "OptOutAction",
    "OptOutEvent",
    "PlatformSettings",
    "Queue",
    "SenderNumber",
    "Source",
    "ShopSmsSettings",
    "SmsCampaign",
    "SmsCarrierAudit",
    "SmsMessage",
    "SmsStatusChange",
    "SmsTemplate",
    "Status",
    "Withdrawal",
    "lifecycle",
]
