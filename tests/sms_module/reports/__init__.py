"""Tests of the SMS module's reports (``plugins.sms_module.reports``), one module per module."""
