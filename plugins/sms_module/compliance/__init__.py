"""Whether a message may go (PRODUCT.md §3, §4, §5, §7).

Owns ``rules`` (the one answer to "may this message go now?": module on and location
filled, consent, opt-out), the consent ledger (``consent``), the platform-wide opt-out list
(``opt_out``) and the words that change it (``keywords``), the first-SMS disclaimer
(``disclaimer``) and the quiet hours (``quiet_hours``). Every send path asks these modules;
none re-states a rule.
"""
