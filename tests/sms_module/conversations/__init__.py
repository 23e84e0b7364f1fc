"""Tests of the SMS module's conversations package: replies, keywords, forwarding."""
