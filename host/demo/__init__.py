"""``crmhost demo``: demo data, and the web server, a worker and Redis run together.

``seed`` adds the demo shops, users, customers, appointments, invoices and legacy SMS
log (idempotent); ``run`` starts and stops the processes. Plugins add their own demo
data through the ``seed_demo`` hook and their notes to the banner through ``demo_notes``.
"""

from host.demo.run import run_demo
from host.demo.seed import DEMO_SHOPS, OPERATOR, DemoLogin, DemoShop, seed_demo, shop_logins

__all__ = [
    "DEMO_SHOPS",
    "OPERATOR",
    "DemoLogin",
    "DemoShop",
    "run_demo",
    "seed_demo",
    "shop_logins",
]
