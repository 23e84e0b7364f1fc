"""Tests of the SMS module's texts package: segments, prices, templates."""
