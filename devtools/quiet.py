"""python -m devtools.quiet MODULE ARGS...: `python -m MODULE ARGS` without a log line per HTTP
request (werkzeug's access log), which would bury everything else `make run` prints. Errors
and warnings still show; ACCESS_LOG=1 keeps the access log."""
from __future__ import annotations

import logging
import os
import runpy
import sys

if os.environ.get("ACCESS_LOG") != "1":
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
sys.argv = sys.argv[1:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
