"""Tests of the SMS module (``plugins.sms_module``)."""
