from tests.conftest import login


def test_login_and_pages(client, shops):
    login(client, shops["a"]["admin"])
    for url in [
        "/",
        "/customers/",
        f"/customers/{shops['a']['customer']}",
        "/appointments/",
        "/invoices/",
        "/users/",
        f"/companies/{shops['a']['shop']}",
        f"/companies/{shops['a']['shop']}/options",
        "/reports/",
    ]:
        r = client.get(url)
        assert r.status_code == 200, (url, r.get_data(as_text=True)[:2000])
