"""Tests of the SMS module's notifications package: what the host's events send."""
