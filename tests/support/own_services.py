"""Fault tests never stop the machine's shared PostgreSQL or Redis: they start their own,
on another port in a temporary folder, and remove them after."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from glob import glob
from pathlib import Path

PG_BIN = Path(sorted(glob("/usr/lib/postgresql/*/bin"))[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, text=True)


class OwnPostgres:
    def __init__(self, folder: Path, port: int):
        self.data, self.port = folder / "data", port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "30", *args)

    def start(self) -> None:
        self.pg_ctl("-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1", "-l",
                    str(self.data / "log"), "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")


@contextmanager
def own_postgres():
    folder = Path(tempfile.mkdtemp(prefix="eventsite-pg-"))
    shutil.chown(folder, "postgres")
    server = OwnPostgres(folder, free_port())
    _as_postgres(str(PG_BIN / "initdb"), "-D", str(server.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)


class OwnRedis:
    """A redis-server of our own (nothing kept on disk), which can be restarted empty."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # as a crash would: nothing saved, nothing handed over
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def own_redis():
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()
