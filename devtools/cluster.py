"""Several web nodes of eventsite behind one HAProxy, on this machine: N gunicorn servers on free
ports (one process group each, so a test can SIGKILL a whole node as a machine dying would) and
Debian's haproxy in front, configured from devtools/haproxy/haproxy.cfg.in.

Used by tests/integration/test_two_nodes.py and bench/two_nodes.py; alone it serves the app until
Ctrl-C (DATABASE_URL and REDIS_URL as for `make run`, which must have migrated the database):

    .venv/bin/python -m devtools.cluster --nodes 2 --port 8080

or prints the config for nodes on other machines (see docs in the template):

    .venv/bin/python -m devtools.cluster --print-config web1=10.0.0.11:8000 web2=10.0.0.12:8000 --bind :80
"""
from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "devtools" / "haproxy" / "haproxy.cfg.in"
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
APP = "app:create_app()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def haproxy_binary() -> str:
    """Debian's haproxy, installed with apt-get if missing (as the Makefile installs chromium and wrk)."""
    found = shutil.which("haproxy") or (Path("/usr/sbin/haproxy").exists() and "/usr/sbin/haproxy")
    if not found:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "haproxy"], check=True, env=env, capture_output=True)
        found = shutil.which("haproxy") or "/usr/sbin/haproxy"
    return found


def haproxy_config(bind: str, nodes: list[tuple[str, str]], *, maxconn: int, log_level: str = "info") -> str:
    """The config for HAProxy on ``bind`` ("127.0.0.1:8080") in front of ``nodes`` [(name, "host:port")];
    ``maxconn`` = each node's gunicorn workers."""
    servers = "\n".join(f"    server {name} {address}" for name, address in nodes)
    return Template(TEMPLATE.read_text()).substitute(bind=bind, servers=servers, maxconn=maxconn,
                                                    log_level=log_level)


@dataclass
class Node:
    """One web node: a gunicorn master and its workers, in a process group of their own."""

    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: the machine died, nothing is handed over."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@dataclass
class Cluster:
    nodes: list[Node]
    port: int  # HAProxy's
    haproxy: subprocess.Popen
    folder: Path
    extra: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def haproxy_log(self) -> Path:
        return self.folder / "haproxy.log"

    def log_lines(self) -> list[str]:
        """HAProxy's request lines so far (see log-format in the config)."""
        return [line for line in self.haproxy_log.read_text().splitlines() if " retries=" in line]


def served_by(port: int, path: str) -> str:
    """Which node answered a HEAD request through HAProxy on ``port`` (its X-Served-By header)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("HEAD", path)
        return connection.getresponse().getheader("X-Served-By", "")
    except OSError:
        return ""
    finally:
        connection.close()


def _wait_answers(url: str, process: subprocess.Popen, what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer at {url} within {timeout} s:\n{log.read_text()[-2000:]}")


def start_node(name: str, env: dict[str, str], folder: Path, *, workers: int = 2, worker_class: str = "sync",
               app: str = APP) -> Node:
    port = free_port()
    log = folder / f"{name}.log"
    process = subprocess.Popen(
        [GUNICORN, app, "--chdir", str(ROOT), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--worker-class", worker_class, "--backlog", "2048", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    return Node(name, port, process, log)


@contextmanager
def cluster(env: dict[str, str], *, nodes: int = 2, workers: int = 2, worker_class: str = "sync",
            port: int | None = None, folder: Path | None = None, log_level: str = "info"):
    """Start ``nodes`` gunicorn nodes of the app (``env``: DATABASE_URL, REDIS_URL, SECRET_KEY, ...;
    TRUSTED_PROXIES=1 is added) and HAProxy in front; wait until each node and HAProxy answer, and
    until HAProxy's checks see every node up; yield the Cluster; stop everything."""
    env = {**env, "TRUSTED_PROXIES": "1"}
    with ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="eventsite-cluster-")))
        started = [start_node(f"web{n + 1}", env, folder, workers=workers, worker_class=worker_class)
                   for n in range(nodes)]
        for node in started:
            stack.callback(node.stop)
        for node in started:
            _wait_answers(node.url + "/favicon.ico", node.process, f"gunicorn {node.name}", node.log)
        port = port or free_port()
        config = folder / "haproxy.cfg"
        config.write_text(haproxy_config(f"127.0.0.1:{port}", [(n.name, f"127.0.0.1:{n.port}") for n in started],
                                         maxconn=workers, log_level=log_level))
        binary = haproxy_binary()
        subprocess.run([binary, "-c", "-q", "-f", str(config)], check=True)
        log = folder / "haproxy.log"
        haproxy = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=log.open("w"),
                                   stderr=subprocess.STDOUT, start_new_session=True)

        def stop_haproxy() -> None:
            haproxy.terminate()
            try:
                haproxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                haproxy.kill()
                haproxy.wait()

        stack.callback(stop_haproxy)
        result = Cluster(started, port, haproxy, folder)
        _wait_answers(result.url + "/favicon.ico", haproxy, "haproxy", log)
        # Round robin over the nodes only once the checks have seen each one up (rise 2 x 1 s at most).
        seen: set[str] = set()
        deadline = time.monotonic() + 15
        while seen != {n.name for n in started}:
            if time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy sent requests only to {sorted(seen)}:\n{log.read_text()[-2000:]}")
            seen.add(served_by(result.port, "/favicon.ico"))
            time.sleep(0.05)
        yield result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    parser.add_argument("--port", type=int, default=8080, help="HAProxy's port")
    parser.add_argument("--print-config", nargs="+", metavar="NAME=HOST:PORT",
                        help="print HAProxy's config for these nodes and exit (nothing is started)")
    parser.add_argument("--bind", default=None, help="with --print-config: HAProxy's address (default :PORT)")
    options = parser.parse_args()
    if options.print_config:
        nodes = [tuple(spec.split("=", 1)) for spec in options.print_config]
        print(haproxy_config(options.bind or f":{options.port}", nodes, maxconn=options.workers), end="")
        return
    with cluster(dict(os.environ), nodes=options.nodes, workers=options.workers, port=options.port) as running:
        print(f"HAProxy on {running.url} in front of "
              + ", ".join(f"{n.name} ({n.url})" for n in running.nodes) + "; Ctrl-C stops all", flush=True)
        try:
            while all(n.alive for n in running.nodes) and running.haproxy.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
