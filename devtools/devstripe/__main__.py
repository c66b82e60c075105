"""`python -m devtools.devstripe`: run the dev payment server (make run starts it).

Its state (sessions, payments, refunds, events, idempotency keys) lives in the --db SQLite file,
so restarting it keeps earlier orders refundable; delete the file to start empty."""
import argparse
import os
from pathlib import Path

from werkzeug.serving import run_simple

from eventsite.infra.settings import DEV_WEBHOOK_SECRET

from .server import create_app

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=12111)
parser.add_argument("--webhook-url",
                    default=os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/") + "/webhooks/stripe")
parser.add_argument("--webhook-secret", default=os.environ.get("STRIPE_WEBHOOK_SECRET") or DEV_WEBHOOK_SECRET,
                    help="signs webhooks; the app must verify with the same (default: $STRIPE_WEBHOOK_SECRET "
                         "or the app's dev secret)")
parser.add_argument("--db", type=Path, default=Path("instance/devstripe.db"), help="SQLite file holding the state")
args = parser.parse_args()
args.db.parent.mkdir(parents=True, exist_ok=True)
run_simple(args.host, args.port, create_app(args.webhook_url, args.webhook_secret, args.db), threaded=True)
