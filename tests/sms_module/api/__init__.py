"""Tests of the SMS module's REST API package: its views and its OpenAPI description."""
