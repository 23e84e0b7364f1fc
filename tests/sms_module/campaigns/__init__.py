"""Tests of the SMS module's campaigns package: the fan-out, the audience, the progress."""
