"""The SMS module: consent, opt-out, segments, queues and sending through Twilio."""
