"""E2B's official Python SDK opens a PTY on Ollio's sandboxd.

Run by tests/e2b_sdk.rs like conformance.py: `sandbox.pty.create` starts an
interactive bash on a terminal, `send_stdin` types into it, its output
comes back as the terminal draws it, `resize` reaches the program inside
(`stty size`), and `kill` ends it. Every check raises on failure.
"""

import threading
import time

from e2b import Sandbox
from e2b.sandbox.commands.command_handle import PtySize

sandbox = Sandbox.create()
terminal = sandbox.pty.create(PtySize(rows=24, cols=80), timeout=0)
assert terminal.pid > 0, terminal

seen = bytearray()
lock = threading.Lock()


def read():
    try:
        for _, _, chunk in terminal:
            if chunk:
                with lock:
                    seen.extend(chunk)
    except Exception:
        pass


threading.Thread(target=read, daemon=True).start()


def wait_for(text, seconds=15):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with lock:
            if text.encode() in seen:
                return
        time.sleep(0.05)
    with lock:
        raise AssertionError(f"never saw {text!r} in {bytes(seen)!r}")


# A real terminal: bash is interactive and sees a tty.
sandbox.pty.send_stdin(terminal.pid, b"echo $((6*7)); tty\n")
wait_for("42")
wait_for("/dev/pts/")

# A resize reaches the program inside.
sandbox.pty.resize(terminal.pid, PtySize(rows=40, cols=120))
sandbox.pty.send_stdin(terminal.pid, b"stty size\n")
wait_for("40 120")

# Ctrl+C stops what runs in the foreground, as in any terminal.
sandbox.pty.send_stdin(terminal.pid, b"sleep 30\n")
time.sleep(0.3)
sandbox.pty.send_stdin(terminal.pid, b"\x03echo after-interrupt\n")
wait_for("after-interrupt")

assert sandbox.pty.kill(terminal.pid) is True
assert sandbox.kill() is True
print("pty ok")
