"""What a seeded platform looks like, with no database: shop sizes, names, phones, texts,
and the share of each status and kind (PRODUCT.md §6, §7, §10; issue 14, point 3)."""

from __future__ import annotations

import random
import unicodedata

from plugins.sms_module.carriers.errors import UNSUBSCRIBED

# Shops: a Zipf-like size curve (the first shop ≈ 25 % of the messages with 20 shops).
SIZE_EXPONENT = 1.1
PROVINCES = ("QC", "QC", "ON", "QC", "BC", "ON", "AB", "QC", "NB", "NS")
AREA_CODES = {
    "QC": ("514", "438", "450", "579", "418", "581", "819", "873"),
    "ON": ("416", "647", "437", "905", "289", "365", "613", "343", "705", "249", "519", "226"),
    "BC": ("604", "778", "236", "250"),
    "AB": ("403", "587", "780", "825"),
    "NB": ("506",),
    "NS": ("902", "782"),
}
SHOP_WORDS_FR = ("Garage", "Centre de l'auto", "Mécanique", "Pneus", "Carrosserie")
SHOP_WORDS_EN = ("Garage", "Auto Centre", "Tire & Service", "Motors", "Car Care")
SURNAMES_FR = (
    "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie",
    "Fortin", "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron", "Leblanc",
    "Paquette", "Girard", "Simard", "Boucher", "Caron", "Beaulieu", "Cloutier", "Dubé",
)  # fmt: skip
SURNAMES_EN = (
    "Smith", "Brown", "Wilson", "MacDonald", "Taylor", "Campbell", "Anderson", "Jones",
    "Thompson", "Martin", "White", "Robinson", "Johnston", "Walker", "Young", "Clarke",
)  # fmt: skip
FIRST_FR = (
    "Marie", "Jean", "Sophie", "Luc", "Julie", "François", "Isabelle", "Mathieu", "Chloé",
    "Éric", "Geneviève", "Stéphane", "Nathalie", "Sébastien", "Amélie", "Hélène", "André",
)  # fmt: skip
FIRST_EN = (
    "James", "Emily", "Michael", "Sarah", "David", "Jessica", "Robert", "Olivia", "Daniel",
    "Emma", "Ryan", "Hannah", "Kevin", "Megan", "Brian", "Laura",
)  # fmt: skip

# Exchanges of a valid North American number (no N11, no 555) and line numbers that end like
# none of the carrier simulator's test numbers (0666, 0777, 0999).
EXCHANGES = tuple(e for e in range(200, 1000) if e % 100 != 11 and e != 555)
LINES = tuple(n for n in range(10000) if n not in (666, 777, 999))
LOCAL_SPACE = len(EXCHANGES) * len(LINES)
_SPREAD = 2_654_435_761  # coprime with LOCAL_SPACE: id → local number is a bijection


def shop_sizes(shops: int) -> list[float]:
    """Return each shop's share of the messages (sums to 1): a few big shops, many small."""
    weights = [1 / (rank**SIZE_EXPONENT) for rank in range(1, shops + 1)]
    total = sum(weights)
    return [w / total for w in weights]


def shop_identity(index: int, rng: random.Random) -> dict:
    """Return the name, province and language of the ``index``-th seeded shop."""
    province = PROVINCES[index % len(PROVINCES)]
    french = province == "QC"
    words = SHOP_WORDS_FR if french else SHOP_WORDS_EN
    surname = rng.choice(SURNAMES_FR if french else SURNAMES_EN)
    name = f"{words[index % len(words)]} {surname} {index + 1}"
    return {"name": name, "province": province, "language": "fr" if french else "en"}


def phone_for(customer_id: int, province: str) -> str:
    """Return customer ``customer_id``'s mobile phone, E.164, in an area code of
    ``province``: distinct for every id below ``LOCAL_SPACE`` (≈7.9 M)."""
    local = (customer_id * _SPREAD) % LOCAL_SPACE
    exchange, line = EXCHANGES[local // len(LINES)], LINES[local % len(LINES)]
    areas = AREA_CODES[province]
    return f"+1{areas[customer_id % len(areas)]}{exchange}{line:04d}"


def person(rng: random.Random, french: bool) -> tuple[str, str, str]:
    """Return a first name, last name and language for a customer."""
    if french:
        return rng.choice(FIRST_FR), rng.choice(SURNAMES_FR), "fr"
    return rng.choice(FIRST_EN), rng.choice(SURNAMES_EN), "en"


def fold(text: str) -> str:
    """The customer search's form of ``text`` (accents dropped, case folded; the host's
    ``Customer.search_text``, kept by its flush hook, which a bulk insert skips)."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


# Outbound kinds of the transactional queue and their weights (PRODUCT.md §10).
KINDS = {
    "appointment_reminder": 26,
    "appointment_booked": 18,
    "vehicle_ready": 12,
    "invoice_printed": 12,
    "manual": 7,
    "reply": 5,
    "api": 4,
    "appointment_moved": 4,
    "appointment_cancelled": 2,
    "welcome": 2,
}
# Share of the messages of each family; the rest are transactional outbound.
INBOUND_SHARE = 0.07
CAMPAIGN_SHARE = 0.10  # of the shops that run campaigns (the bigger half)
# The fate of an outbound message that left (or was stopped), out of 1000.
# A rule's refusal is no draw: a message to an opted-out phone, or to a customer whose
# consent was withdrawn, is refused (``traffic.Traffic.send``), about 2 % of them.
FATES = (
    ("delivered", 890),
    ("sent", 30),  # no delivery report
    ("undelivered", 28),
    ("failed", 17),  # the carrier refused the create
    ("canceled", 20),
    ("scheduled", 15),  # due in the coming days
)
UNDELIVERED_CODES = ("30003", "30003", "30005", "30006", "30007", "30008")
FAILED_CODES = ("21211", str(UNSUBSCRIBED), "30008")
# Why a Canceled one was withdrawn; "consent_withdrawn" is no draw: only a withdrawal in
# the consent ledger cancels a message so (``traffic.Traffic._withdrawn_later``).
WITHDRAWALS = ("appointment_gone", "canceled_by_staff: seed", "expired")

BODIES = {
    "appointment_reminder": {
        "en": "{shop}: reminder, your appointment is tomorrow at {hour}. Reply to this text "
        "if you need to change it.",
        "fr": "{shop} : rappel, votre rendez-vous est demain à {hour}. Répondez à ce texto "
        "pour le déplacer.",
    },
    "appointment_booked": {
        "en": "{shop}: your appointment is booked for {day} at {hour}. See you then!",
        "fr": "{shop} : votre rendez-vous est confirmé le {day} à {hour}. À bientôt!",
    },
    "appointment_moved": {
        "en": "{shop}: your appointment has moved to {day} at {hour}.",
        "fr": "{shop} : votre rendez-vous est déplacé au {day} à {hour}.",
    },
    "appointment_cancelled": {
        "en": "{shop}: your appointment of {day} is cancelled. Call us to book again.",
        "fr": "{shop} : votre rendez-vous du {day} est annulé. Appelez-nous pour le reprendre.",
    },
    "vehicle_ready": {
        "en": "{shop}: your vehicle is ready. We are open until 6 pm.",
        "fr": "{shop} : votre véhicule est prêt. Nous sommes ouverts jusqu'à 18 h.",
    },
    "invoice_printed": {
        "en": "{shop}: thank you for your visit! Your invoice total is ${amount}.",
        "fr": "{shop} : merci de votre visite! Le total de votre facture est de {amount} $.",
    },
    "manual": {
        "en": "{shop}: we found a worn brake pad, call us when you can.",
        "fr": "{shop} : nous avons trouvé une plaquette de frein usée, appelez-nous.",
    },
    "reply": {"en": "{shop}: yes, 3 pm works for us.", "fr": "{shop} : oui, 15 h nous convient."},
    "api": {
        "en": "{shop}: your tires are in, we can install them this week.",
        "fr": "{shop} : vos pneus sont arrivés, on peut les poser cette semaine.",
    },
    "welcome": {
        "en": "{shop}: welcome! You will get your appointment and vehicle notices by text.",
        "fr": "{shop} : bienvenue! Vous recevrez par texto les avis de vos rendez-vous.",
    },
    "campaign": {
        "en": "{shop}: winter tires installed for $79 until the end of the month. "
        "Reply STOP to unsubscribe.",
        "fr": "{shop} : pose de pneus d'hiver à 79 $ jusqu'à la fin du mois. "
        "Répondez ARRET pour vous désabonner.",
    },
}
REPLIES = {
    "en": ("OK thanks", "Can I come at 3pm instead?", "Perfect, see you then", "Is it ready?"),
    "fr": ("Merci!", "Est-ce que je peux passer à 15 h?", "Parfait, à demain", "C'est prêt?"),
}
DAYS = {"en": ("Monday", "Tuesday", "Thursday", "Friday"), "fr": ("lundi", "mardi", "jeudi")}
HOURS = {"en": ("8:30 am", "10 am", "1:30 pm", "3 pm"), "fr": ("8 h 30", "10 h", "13 h 30")}
