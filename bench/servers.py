"""Start and stop the gunicorn servers the bench drives, all with the same settings."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from .settings import ROOT, Settings

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gunicorn_args(settings: Settings, app: str, port: int) -> list[str]:
    return [GUNICORN, app, "--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}",
            "--workers", str(settings.workers), "--worker-class", settings.worker_class,
            "--backlog", "2048", "--log-level", "warning"]


def server_env(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "RATELIMIT_ENABLED": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


@contextmanager
def served(settings: Settings, name: str, app: str):
    """Run ``app`` under gunicorn on a free port; yields the port."""
    port = free_port()
    log = open(settings.results_dir / f"gunicorn-{name}.log", "w")
    proc = subprocess.Popen(gunicorn_args(settings, app, port), env=server_env(settings), cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_ready(proc, port, name)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _wait_ready(proc: subprocess.Popen, port: int, name: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn for {name} exited with {proc.returncode}; see gunicorn-{name}.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n")
                if s.recv(12).startswith(b"HTTP/1."):
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn for {name} did not answer on port {port}")
