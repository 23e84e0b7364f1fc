"""The SMS module's pages: one blueprint per module (customer SMS tab, settings, sender
numbers, queues, templates, replies, campaigns, the carrier's webhooks) and the consent box
of the Customer Information tab (``consent_field``); the campaign pages draw and check
their form in ``campaign_pages`` and ``campaign_form``. Views are short: the work is in the
packages they call."""
