"""The bare endpoints: constant answers under the same gunicorn settings, the ceiling of
what a poll (or a waiting room's join) can cost in this stack (``gunicorn 'bench.bare:app'``)."""
from flask import Flask

FRAGMENT = ('<div id="availability" hx-get="/events/bench/availability" hx-trigger="every 5s">'
            '<p>General admission: <strong>42</strong> left</p></div>')
PLACE = {"phase": "before_draw", "number": 1, "ahead": None, "people": 1, "tickets_left": 42}

app = Flask(__name__)


@app.get("/events/<slug>/availability")
@app.get("/api/v1/events/<slug>/availability")
def availability(slug: str):
    return FRAGMENT


@app.post("/api/v1/events/<slug>/room")
def join_room(slug: str):
    return PLACE, 201, {"Location": f"/api/v1/events/{slug}/room/places/bare"}


@app.get("/api/v1/events/<slug>/room/places/<token>")
def room_place(slug: str, token: str):
    return PLACE
