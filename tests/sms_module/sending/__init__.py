"""Tests of the SMS module's sending package."""
