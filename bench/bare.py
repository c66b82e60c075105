"""The bare endpoint: a constant fragment under the same gunicorn settings,
the ceiling of what a poll can cost in this stack (``gunicorn 'bench.bare:app'``)."""
from flask import Flask

FRAGMENT = ('<div id="availability" hx-get="/events/bench/availability" hx-trigger="every 5s">'
            '<p>General admission: <strong>42</strong> left</p></div>')

app = Flask(__name__)


@app.get("/events/<slug>/availability")
@app.get("/api/v1/events/<slug>/availability")
def availability(slug: str):
    return FRAGMENT
