"""Tests of the SMS module's carriers package: Twilio, its webhooks, the factory."""
