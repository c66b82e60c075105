"""Issue 17's buyer-page findings: the loser of a race sees one verdict, the fresh one; releasing asks first."""
from __future__ import annotations

import re
from datetime import timedelta

from shop_support import HX, buyer, csrf_from, hold_for_other  # noqa: F401 (fixtures)
from test_shop_fragments import status_line

from eventsite.domain.models import OrderStatus
from eventsite.readmodels import lookups
from eventsite.services import paying


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def test_the_loser_of_a_race_sees_one_verdict_the_refreshed_lines(app, buyer, frozen, make_event, hold_for_other):
    event_id, (ga,) = make_event({"name": "GA", "capacity": 1})
    page = buyer.open_event().text  # fetched while the last ticket was still there
    assert status_line(page, ga) == "1 ticket available"
    winner = hold_for_other(event_id, {ga: 1})
    refused = buyer.reserve({ga: 1}, headers=HX, token=csrf_from(page))
    assert refused.status_code == 409 and refused.headers["HX-Trigger"] == "availability-stale"
    assert text(refused.text) == ("Not reserved: other buyers got to these tickets first. "
                                  "The figures above are up to date; choose again.")
    refreshed = buyer.http.get(f"/events/rush/availability?qty-{ga}=1", headers=HX).text
    assert status_line(refreshed, ga) == "All remaining tickets are reserved — check back in 15:00"
    # The winner pays: the polled line turns to "Sold out", and the box under it still says nothing else.
    with app.app_context():
        paying.confirm_payment(lookups.order_by_token(winner).id, reason="paid", actor="test")
    assert status_line(buyer.http.get("/events/rush/availability", headers=HX).text, ga) == "Sold out"
    # Without script the page comes back with the same single verdict, in the line.
    whole = buyer.reserve({ga: 1}, token=csrf_from(page))
    assert whole.status_code == 409 and status_line(whole.text, ga) == "Sold out"
    assert "All remaining tickets are reserved" not in whole.text and "Not reserved: other buyers" in whole.text


def test_release_without_script_asks_first_then_releases(app, buyer, frozen, make_event):
    _, (ga,) = make_event({"name": "GA", "capacity": 3})
    location = buyer.reserve({ga: 2}).headers["Location"]
    token = location.rsplit("/", 1)[1]
    page = buyer.http.get(location).text
    assert f'<a href="{location}/release" role="button"' in page and f'action="{location}/release"' not in page
    step = buyer.http.get(f"{location}/release")
    assert step.status_code == 200 and "<html" in step.text
    assert "Release these tickets?" in step.text and "2 tickets go back on sale at once" in text(step.text)
    assert f'<form method="post" action="{location}/release"' in step.text
    assert f'href="{location}" role="button" class="secondary outline">No, keep them' in step.text
    with app.app_context():  # asking changed nothing
        assert lookups.order_by_token(token).status == OrderStatus.RESERVED
    done = buyer.http.post(f"{location}/release", data={"csrf_token": csrf_from(step.text)})
    assert done.status_code == 303 and done.headers["Location"] == location
    assert "You released this reservation" in buyer.http.get(location).text
    # Once released (or lapsed) there is nothing to confirm: the step sends back to the page.
    again = buyer.http.get(f"{location}/release")
    assert again.status_code == 303 and again.headers["Location"] == location


def test_release_with_htmx_swaps_in_the_step_then_the_released_panel(app, buyer, frozen, make_event):
    _, (ga,) = make_event({"name": "GA", "capacity": 3})
    location = buyer.reserve({ga: 1}).headers["Location"]
    page = buyer.http.get(location).text
    assert f'hx-get="{location}/release" hx-target="#reservation-actions"' in page
    step = buyer.http.get(f"{location}/release", headers=HX)
    assert step.status_code == 200 and "<html" not in step.text
    assert 'id="reservation-actions"' in step.text and "1 ticket goes back on sale at once" in text(step.text)
    assert f'hx-post="{location}/release" hx-target="#reservation" hx-swap="outerHTML"' in step.text
    released = buyer.http.post(f"{location}/release", data={"csrf_token": csrf_from(step.text)}, headers=HX)
    assert released.status_code == 200 and "<html" not in released.text
    assert '<h1 id="reservation-title" data-focus>You released this reservation</h1>' in released.text
    frozen.advance(timedelta(minutes=15))
    lapsed = buyer.http.get(f"{location}/release", headers=HX)
    assert lapsed.headers["HX-Redirect"] == location
