"""A new visitor's event page is rendered once per change and language and shared, like the
availability fragment (issue 14): a repeat costs no query, yet each visitor gets their own
working CSRF token, and nobody is shown a page that is no longer true or not theirs."""
from __future__ import annotations

import re
from datetime import timedelta

from shop_support import csrf_from
from sqlalchemy import event as sa_event

from eventsite.infra.db import db
from eventsite.services import reserving

META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def queries_during(app, action):
    """``action()``'s answer and the SQL it ran (its requests get app contexts of their own, as in
    production: one shared context would share ``g``, and so a CSRF token and a language)."""
    with app.app_context():
        engine = db.engine
    statements = []

    def listener(*args):
        statements.append(args[2])
    sa_event.listen(engine, "before_cursor_execute", listener)
    try:
        return action(), statements
    finally:
        sa_event.remove(engine, "before_cursor_execute", listener)


def test_new_visitors_share_one_rendering_each_with_a_token_of_their_own(app, make_event, frozen):
    _, (ga,) = make_event({"name": "GA", "capacity": 5, "price": 2500})
    first, second = app.test_client(), app.test_client()
    one = first.get("/events/rush")
    two, statements = queries_during(app, lambda: second.get("/events/rush"))
    assert (one.status_code, two.status_code) == (200, 200) and statements == []
    tokens = {csrf_from(one.text), csrf_from(two.text)}
    assert len(tokens) == 2 and "\x00" not in two.text
    assert META.search(two.text).group(1) == csrf_from(two.text)  # every form and the htmx header: the same own token
    assert one.text.replace(csrf_from(one.text), "") == two.text.replace(csrf_from(two.text), "")
    placed = second.post("/events/rush/reserve", data={"csrf_token": csrf_from(two.text), "email": "b@example.test",
                                                       f"qty-{ga}": "2"})
    assert placed.status_code == 303  # the shared page's token works for its visitor
    # The change shows at once to the next new visitor; the buyer sees their own hold, never the shared page.
    third = app.test_client().get("/events/rush").text
    assert "3 tickets available (2 reserved by others)" in text(third)
    assert "You have tickets reserved for this event" in second.get("/events/rush").text


def test_each_language_has_its_own_rendering(app, make_event, frozen):
    make_event({"name": "GA", "capacity": 5, "price": 2500})
    english = app.test_client().get("/events/rush").text
    german = app.test_client().get("/events/rush", headers={"Accept-Language": "de"}).text
    again = app.test_client().get("/events/rush").text
    assert '<html lang="de">' in german and "25,00\xa0€" in german
    assert '<html lang="en">' in english and '<html lang="en">' in again and "€25.00" in again


def test_a_page_with_a_countdown_or_asked_with_arguments_is_rendered_afresh(app, make_event, frozen):
    _, (ga,) = make_event({"name": "GA", "capacity": 2})
    with app.app_context():
        reserving.reserve("rush", {ga: 2}, "holder@example.test")  # all held: "check back in 15:00"
    assert "check back in 15:00" in text(app.test_client().get("/events/rush").text)
    frozen.advance(timedelta(minutes=1))
    assert "check back in 14:00" in text(app.test_client().get("/events/rush").text)
    asked, statements = queries_during(app, lambda: app.test_client().get("/events/rush?utm=x"))
    assert asked.status_code == 200 and statements  # rendered for its own URL, which the switcher returns to
    assert 'name="next" value="/events/rush?utm=x"' in asked.text
