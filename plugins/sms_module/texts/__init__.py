"""What a message says and what it costs (PRODUCT.md §8, §10).

Owns segment counting (``segments``: GSM-7 and UCS-2, look-alike replacements), the
operator's price and a priced message (``pricing``), the shops' templates (``templates``),
the Jinja sandbox they render in (``sandbox``), their variables (``variables``), the
built-in texts (``defaults``), the line every commercial message ends with: who sends
it and how to unsubscribe (``commercial``), and how statuses and segment
previews are shown to people (``preview``). Nothing here decides whether a message may go.
"""
