"""Flask extensions of the web layer, created unbound and initialised in the app factory."""
from flask_htmx import HTMX
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
htmx = HTMX()
