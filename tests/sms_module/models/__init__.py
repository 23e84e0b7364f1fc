"""Tests of the SMS module's models package."""
