"""The front page as a new visitor finds it: what each event costs, and no missing favicon."""
from __future__ import annotations


def test_the_event_list_shows_what_tickets_cost(client, make_event):
    make_event({"name": "GA", "capacity": 5, "price": 2500}, {"name": "VIP", "capacity": 2, "price": 7500})
    make_event({"name": "GA", "capacity": 5, "price": 1250}, slug="flat", currency="EUR", locale="de_DE")
    page = " ".join(client.get("/").get_data(as_text=True).split())
    assert "from €25.00" in page  # several prices: the lowest
    assert "€12.50" in page and "from €12.50" not in page  # one price, as an English reader writes it
    german = " ".join(client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"}).get_data(as_text=True).split())
    assert "ab 25,00 €" in german  # the lowest, as a German reader writes it (no-break space collapsed)
    assert "12,50 €" in german and "ab 12,50" not in german


def test_the_favicon_is_found(client):
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)
    moved = client.get("/favicon.ico")
    assert moved.status_code == 301 and moved.headers["Location"].endswith("/static/favicon.svg")
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
