"""`python -m eventsite.payments.devstripe`: run the dev payment server (make run starts it)."""
import argparse
import os

from werkzeug.serving import run_simple

from ..gateway import dev_webhook_secret
from .server import create_app

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=12111)
parser.add_argument("--webhook-url",
                    default=os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/") + "/webhooks/stripe")
args = parser.parse_args()
run_simple(args.host, args.port, create_app(args.webhook_url, dev_webhook_secret()), threaded=True)
