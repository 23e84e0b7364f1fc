"""Customers' replies (PRODUCT.md §9) and keywords (§5).

Owns receiving and routing an inbound SMS (``inbound``), the answers to STOP, START and HELP
(``answers``) and forwarding replies to the shop by e-mail and/or SMS (``forwarding``), with
per-phone limits on both (``limits``) and the digest of the forwards held over them
(``digest``). The reply pages are in ``views.replies``.
"""
