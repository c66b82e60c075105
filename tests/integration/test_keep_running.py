"""Under `make run`, a worker or rqscheduler that exits (Redis went away) is started again,
and the other processes keep running; stopping the wrapper stops its command for good."""
from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

KEEP_RUNNING = Path(__file__).resolve().parents[2] / "devtools" / "keep-running"


def test_a_command_that_exits_is_started_again_and_stop_means_stop(tmp_path):
    runs = tmp_path / "runs"
    wrapper = subprocess.Popen([str(KEEP_RUNNING), "sh", "-c", f"echo run >> {runs}; sleep 0.2; exit 3"],
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while (runs.read_text().count("run") if runs.exists() else 0) < 2:
        assert time.monotonic() < deadline and wrapper.poll() is None
        time.sleep(0.05)
    wrapper.send_signal(signal.SIGTERM)
    assert wrapper.wait(timeout=5) == 0
    count = runs.read_text().count("run")
    time.sleep(1.5)
    assert runs.read_text().count("run") == count  # nothing started after the stop
    assert "exited with 3; starting it again in 1s" in wrapper.stderr.read()
