"""Tests of the SMS module's pages: one test module per blueprint, and the browser."""
