"""`make run` as a new user meets it: devtools.run_all starts the Procfile's processes under honcho,
shows the box once its addresses answer, and Ctrl-C (or SIGTERM) is a clean stop, exit status 0,
with no process left; and the README's operator commands run from a clone after `make setup`."""
from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from testenv import TEST_DATABASE_URL, TEST_REDIS_URL

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_run_all_shows_the_box_then_stops_cleanly_with_status_0(tmp_path, stop):
    port = _free_port()
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"web: echo $$ > {tmp_path}/web.pid; exec {sys.executable} -m http.server {port} "
                        f"--bind 127.0.0.1\nidle: echo $$ > {tmp_path}/idle.pid; exec sleep 60\n")
    run = subprocess.Popen([sys.executable, "-m", "devtools.run_all", str(procfile), "try it",
                            f"  shop  http://127.0.0.1:{port}"],
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True)  # its own process group, as a terminal's job is
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(run.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 20
        while not any(line.startswith("└") for line in output):
            assert time.monotonic() < deadline and run.poll() is None, "".join(output)
            time.sleep(0.05)
        box = "".join(output[-5:])
        assert f"│   shop  http://127.0.0.1:{port} │" in box and "│ try it" in box
        pids = [int((tmp_path / f"{name}.pid").read_text()) for name in ("web", "idle")]
        assert all(map(_alive, pids))

        if stop == "ctrl-c":
            os.killpg(run.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        else:
            run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=15) == 0
        reader.join(timeout=5)
        assert output[-1] == "eventsite stopped.\n"
        assert not any(map(_alive, pids))
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)


def test_a_process_that_dies_stops_the_others_and_is_a_failure(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"idle: echo $$ > {tmp_path}/idle.pid; exec sleep 60\n"
                        f"broken: sleep 0.5; exit 3\n")
    run = subprocess.run([sys.executable, "-m", "devtools.run_all", str(procfile), "never shown",
                          f"http://127.0.0.1:{_free_port()}"],
                         cwd=REPO, capture_output=True, text=True, timeout=20)
    assert run.returncode == 3
    assert "never shown" not in run.stdout and "eventsite stopped." not in run.stdout
    assert not _alive(int((tmp_path / "idle.pid").read_text()))


def _operator_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"## Operating it\n.*?```sh\n(.*?)```", readme, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def _help_form(command: str) -> list[str]:
    """The command's program and subcommand words, then --help: `.venv/bin/flask --app app
    inventory show SLUG` is `.venv/bin/flask --app app inventory show --help`."""
    words = shlex.split(command)
    kept = words[:1]
    rest = words[1:]
    if rest[:1] == ["--app"]:
        kept, rest = kept + rest[:2], rest[2:]
    for word in rest:
        if not re.fullmatch(r"[a-z][a-z-]*", word):
            break
        kept.append(word)
    return [*kept, "--help"]


def test_the_readme_operator_commands_run_from_the_clone(app):
    env = {**os.environ, "DATABASE_URL": TEST_DATABASE_URL, "REDIS_URL": TEST_REDIS_URL}  # the migrated test database
    commands = _operator_commands()
    assert len(commands) >= 10
    for command in commands:
        assert command.startswith(".venv/bin/"), f"{command!r} depends on what else is on PATH"
        done = subprocess.run(_help_form(command), cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "usage:" in (done.stdout + done.stderr).lower(), (command, done.stderr)

    unknown = subprocess.run([".venv/bin/flask", "--app", "app", "inventory", "show", "no-such-event"],
                             cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "error: no event with slug 'no-such-event'" and unknown.stdout == ""
