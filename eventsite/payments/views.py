"""Payment routes."""
from flask import render_template

from .. import inventory
from . import bp


@bp.get("/r/<token>/payment")
def status(token: str):
    """Where a hold goes once payment has started: processing, confirmed or refunded."""
    order = inventory.order_by_token(token)
    return render_template("payments/status.html", order=order)
