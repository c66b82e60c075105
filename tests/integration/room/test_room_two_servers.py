"""Two web servers on different ports (two instances of the app, as behind a load balancer) serve
one waiting room over real HTTP: buyers join through either, the on-sale draws once, every place
reads the same through both, and an admission given by one server reserves on the other."""
from __future__ import annotations

import re
from datetime import timedelta

import requests
from room_support import published_rule, served, set_seed, shop_app
from shop_support import HX
from sqlalchemy import select

from eventsite.domain import waiting_room as rules
from eventsite.domain.models import Order
from eventsite.infra.db import db

EVENT = "/events/onsale"
ROOM = f"{EVENT}/room"
SEED = "two web servers, one room"  # draws places 2, 6, 1, 5, 3, 4


class Browser:
    """One buyer's browser: its own cookies (the signed session holds its place and admission),
    sent to whichever server it talks to, as to one site behind a load balancer."""

    def __init__(self):
        self.http = requests.Session()

    def csrf(self, server: str) -> str:
        page = self.http.get(server + EVENT, timeout=10)
        return re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)

    def join(self, server: str, email: str) -> requests.Response:
        return self.http.post(server + ROOM, data={"email": email, "csrf_token": self.csrf(server)},
                              allow_redirects=False, timeout=10)

    def place_number(self, server: str) -> int:
        page = self.http.get(server + ROOM, timeout=10).text
        return int(re.search(r"Your place number is <strong>(\d+)</strong>", page).group(1))

    def poll(self, server: str) -> requests.Response:
        return self.http.get(server + ROOM + "/status", headers=HX, timeout=10)

    def reserve(self, server: str, ga: int, email: str) -> requests.Response:
        return self.http.post(server + EVENT + "/reserve", allow_redirects=False, timeout=10,
                              data={"csrf_token": self.csrf(server), "email": email, f"qty-{ga}": "1"})


def heading(fragment: str) -> str:
    return re.search(r"<h2>(.*?)</h2>", fragment, re.S).group(1)


def test_two_web_servers_share_one_room(app, room_event, frozen):
    event_id, ga = room_event(capacity=3)  # stock multiple 1: three admitted at the on-sale
    set_seed(event_id, SEED)
    with shop_app(app) as one, shop_app(app) as two, served(one) as a, served(two) as b:
        browsers = [Browser() for _ in range(6)]
        joined_on = [(a, b)[i % 2] for i in range(6)]
        other = [(b, a)[i % 2] for i in range(6)]
        for i, browser in enumerate(browsers):
            assert browser.join(joined_on[i], f"p{i}@example.test").status_code == 303
        numbers = [browser.place_number(other[i]) for i, browser in enumerate(browsers)]
        assert numbers == [1, 2, 3, 4, 5, 6]  # one counter: the order people came in, whichever server
        before = [requests.get(server + ROOM + "/draw", timeout=10).json() for server in (a, b)]
        assert before[0] == before[1] and "seed" not in before[0]  # the hash only, until the on-sale
        seed_hash = before[0]["seed_hash"]

        frozen.advance(timedelta(minutes=30))
        first = [browser.poll(other[i]) for i, browser in enumerate(browsers)]  # the first polls, through both
        draws = [requests.get(server + ROOM + "/draw", timeout=10).json() for server in (a, b)]
        assert draws[0] == draws[1] and rules.seed_hash(draws[0]["seed"]) == seed_hash
        order = published_rule(draws[0]["seed"], range(1, 7))
        assert (draws[0]["drawn"], draws[0]["order"], order) == (6, order, [2, 6, 1, 5, 3, 4])
        admitted = {numbers[i] for i, response in enumerate(first) if response.headers.get("HX-Redirect") == EVENT}
        assert admitted == set(order[:3])
        for i, browser in enumerate(browsers):  # a queued place reads the same through both servers
            if numbers[i] not in admitted:
                through = [heading(browser.poll(server).text) for server in (a, b)]
                ahead = order.index(numbers[i]) - 3
                assert through == [f"{ahead} {'person' if ahead == 1 else 'people'} ahead of you"
                                   if ahead else "You are next"] * 2

        # Place 2's browser joined through B and was admitted through A: it reserves through B.
        buyer = browsers[numbers.index(2)]
        assert (joined_on[1], other[1]) == (b, a)
        reserved = buyer.reserve(b, ga, "p1@example.test")
        assert reserved.status_code == 303 and reserved.headers["Location"].startswith("/r/")
        refused = browsers[numbers.index(4)].reserve(b, ga, "p3@example.test")  # still in line
        assert refused.status_code == 403 and "sold through its waiting room" in refused.text
        db.session.rollback()
        assert [(o.email, o.room_place) for o in db.session.scalars(select(Order))] == [("p1@example.test", 2)]
        assert heading(buyer.poll(a).text) == heading(buyer.poll(b).text) == "You reserved tickets"
