"""python -m devtools.run_all PROCFILE LINE...: what `make run` ends with.

Starts PROCFILE's processes under honcho, prints LINE... in a box once every http:// address in
them answers (so the box is the last thing printed at start, not buried under start-up output),
and treats Ctrl-C (SIGINT) or SIGTERM as a clean stop: "eventsite stopped." and exit status 0.
A process that ends on its own still stops the others and ends this with honcho's status.
"""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time


def take_terminal() -> tuple[int, int] | None:
    """Ctrl-C signals the terminal's foreground process group, and make is in it: however cleanly
    the processes stop, make then reports `*** [run] Error 130` or dies of the SIGINT itself. In a
    group of its own, put in the foreground, Ctrl-C reaches only this and honcho (which starts each
    process in a session of its own and stops them), and make sees an exit status of 0."""
    try:
        fd = sys.stdin.fileno()
        previous = os.getpgrp()
        if not os.isatty(fd) or os.tcgetpgrp(fd) != previous:
            return None
        os.setpgid(0, 0)
        _give_terminal(fd, os.getpgrp())
    except OSError:  # not a terminal, or already a session leader: nothing to take
        return None
    return fd, previous


def _give_terminal(fd: int, pgrp: int) -> None:
    old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may not otherwise
    try:
        os.tcsetpgrp(fd, pgrp)
    finally:
        signal.signal(signal.SIGTTOU, old)


def wait_for(addresses: list[tuple[str, int]], running) -> bool:
    for host, port in addresses:
        while True:
            if not running():
                return False
            try:
                socket.create_connection((host, port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
    return True


def box(lines: list[str]) -> str:
    width = max(map(len, lines)) + 2
    rows = [f"│ {line:<{width - 2}} │" for line in lines]
    return "\n".join([f"┌{'─' * width}┐", *rows, f"└{'─' * width}┘"]) + "\n"


def main(argv: list[str]) -> int:
    procfile, lines = argv[0], argv[1:]
    terminal = take_terminal()
    # Ctrl-Z would stop this group, not make's, and leave the shell waiting with no way back.
    signal.signal(signal.SIGTSTP, signal.SIG_IGN)
    stopping = threading.Event()
    honcho = subprocess.Popen([sys.executable, "-m", "honcho", "start", "-f", procfile])

    def stop(signum, _frame):
        stopping.set()
        if signum == signal.SIGTERM:  # a SIGINT from the terminal reached honcho already
            honcho.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    addresses = [(host, int(port)) for host, port in re.findall(r"https?://([\w.-]+):(\d+)", " ".join(lines))]

    def announce():
        if wait_for(addresses, lambda: honcho.poll() is None and not stopping.is_set()):
            sys.stdout.write(box(lines))
            sys.stdout.flush()

    threading.Thread(target=announce, daemon=True).start()
    code = honcho.wait()
    if terminal:
        _give_terminal(*terminal)
    if stopping.is_set():
        print("eventsite stopped.")
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
