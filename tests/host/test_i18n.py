"""French and English: who sees which, the language switch, and a catalog kept complete."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from host.extensions import db
from host.models import Company
from tests.conftest import add_user, login
from tests.support_pages import page_text, row_counts

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "host" / "translations" / "fr" / "LC_MESSAGES"
# The keywords babel.cfg's refresh command passes to ``pybabel extract``.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "_l": None,
    "lazy_gettext": None,
    "lazy_pgettext": ((1, "c"), 2),
}
REFRESH = "refresh the catalog with the commands at the top of babel.cfg"


def french_catalog():
    with open(CATALOG / "messages.po", "rb") as po:
        return read_po(po)


def translations(catalog) -> dict:
    """Map each translated, non-fuzzy msgid (a plural by its singular) to its translation
    (a plural's forms as a tuple, each filled)."""
    found = {}
    for m in catalog:
        if not m.id or m.fuzzy:
            continue
        msgid = m.id if isinstance(m.id, str) else m.id[0]
        string = m.string if isinstance(m.string, str) else tuple(m.string)
        if string and (isinstance(string, str) or all(string)):
            found[msgid] = string
    return found


def extracted_msgids() -> set:
    """Extract every UI string of the code the way ``pybabel extract -F babel.cfg`` does."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_extracted_string_has_a_french_translation():
    msgids = extracted_msgids()
    assert "Customer management" in msgids and "E-mail" in msgids  # the extraction works
    missing = sorted(msgids - set(translations(french_catalog())))
    assert not missing, f"UI strings without French ({REFRESH}):\n" + "\n".join(missing)


def test_french_translations_keep_their_placeholders():
    catalog = french_catalog()
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check() if errors]
    assert not problems


def test_committed_mo_matches_the_po(tmp_path):
    compiled = tmp_path / "messages.mo"
    with open(compiled, "wb") as mo:
        write_mo(mo, french_catalog())
    with open(compiled, "rb") as fresh, open(CATALOG / "messages.mo", "rb") as committed:
        expected, actual = translations(read_mo(fresh)), translations(read_mo(committed))
    assert expected, "the French catalog is empty"
    assert actual == expected, f"messages.mo is older than messages.po: {REFRESH}"


def test_a_french_speaking_shop_user_sees_french(client, shops):
    login(client, shops["a"]["admin"])  # shop A is in Quebec and speaks French
    page = client.get("/customers/")
    text = page_text(page)
    assert '<html lang="fr">' in text
    assert "Gestion des clients" in text and "Nouveau client" in text and "Rendez-vous" in text
    assert "Customer management" not in text
    response = client.post("/customers/new", data={"first_name": "", "mobile_phone": "12"})
    text = page_text(response)
    assert response.status_code == 422
    assert "Ce champ est requis." in text  # WTForms' own messages follow the language too
    assert "Entrez un numéro de téléphone valide, p. ex. 514 555 0123." in text


def test_an_english_speaking_shop_user_sees_english(client, shops):
    login(client, shops["b"]["admin"])
    text = page_text(client.get("/customers/"))
    assert '<html lang="en">' in text and "Customer management" in text


def test_a_new_quebec_shop_speaks_french_by_default(client, app, shops):
    login(client, "operator@example.com")
    data = {"name": "Garage Laval", "country": "CA", "province": "QC", "language": ""}
    assert client.post("/companies/new", data=data).status_code == 302
    with app.app_context():
        shop = db.session.query(Company).filter_by(name="Garage Laval").one()
        assert shop.language == "fr"
        add_user("laval@example.com", "admin", shop)
        db.session.commit()
    other = app.test_client()
    login(other, "laval@example.com")
    assert "Gestion des clients" in page_text(other.get("/customers/"))


def test_language_switch(client, shops, app):
    login(client, shops["a"]["admin"])
    response = client.get("/language/en?next=/invoices/")
    assert response.location == "/invoices/"
    assert "New invoice" in page_text(client.get("/invoices/"))
    client.get("/language/fr")
    assert "Nouvelle facture" in page_text(client.get("/invoices/"))
    before = row_counts(app)
    assert client.get("/language/xx").status_code == 302  # an unknown language changes nothing
    assert "Nouvelle facture" in page_text(client.get("/invoices/"))
    assert client.get("/language/en?next=https://evil.example/").location == "/"
    assert row_counts(app) == before


def test_login_page_follows_the_browser_language(client):
    french = client.get("/login", headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    assert "Se connecter" in page_text(french) and "Courriel" in page_text(french)
    english = client.get("/login", headers={"Accept-Language": "en-US"})
    assert "Log in" in page_text(english)
