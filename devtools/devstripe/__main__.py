"""`python -m devtools.devstripe`: run the dev payment server (make run starts it).

It listens on 127.0.0.1 only, and shares this installation's secret with the app: the API key it
accepts and the webhook signing secret, both from <instance>/devstripe_secret (generated once,
readable by its owner only; the app does the same at start). Its /_dev/* controls (which list every
order's token) are off unless --enable-dev-api is given.

Its state (sessions, payments, refunds, events, idempotency keys) lives in the --db SQLite file,
so restarting it keeps earlier orders refundable; delete the file to start empty."""
import argparse
import os
from pathlib import Path

from werkzeug.serving import run_simple

from eventsite.infra.settings import devstripe_secrets

from .server import create_app

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--port", type=int, default=12111)
parser.add_argument("--instance", type=Path, default=Path("instance"),
                    help="the app's instance folder, holding devstripe_secret (default: ./instance)")
parser.add_argument("--webhook-url",
                    default=os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/") + "/webhooks/stripe")
parser.add_argument("--db", type=Path, default=None,
                    help="SQLite file holding the state (default: <instance>/devstripe.db)")
parser.add_argument("--enable-dev-api", action="store_true",
                    help="serve the /_dev/* controls (state, held webhooks, refunds, disputes) for development")
args = parser.parse_args()
api_key, webhook_secret = devstripe_secrets(args.instance)
# The app verifies with STRIPE_WEBHOOK_SECRET when it is set without a Stripe key; sign with the same.
webhook_secret = os.environ.get("STRIPE_WEBHOOK_SECRET") or webhook_secret
db_path = args.db or args.instance / "devstripe.db"
db_path.parent.mkdir(parents=True, exist_ok=True)
run_simple("127.0.0.1", args.port, create_app(args.webhook_url, webhook_secret, db_path, api_key=api_key,
                                              enable_dev_api=args.enable_dev_api), threaded=True)
