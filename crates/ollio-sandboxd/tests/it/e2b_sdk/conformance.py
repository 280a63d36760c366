"""E2B's official Python SDK against Ollio's sandboxd.

Run by tests/e2b_sdk.rs with E2B_API_URL, E2B_SANDBOX_URL and E2B_API_KEY
pointing at a daemon it started. Every check raises on failure.
"""

import threading
import time

from e2b import Sandbox
from e2b.exceptions import TimeoutException
from e2b.sandbox.commands.command_handle import CommandExitException


def wait_for(condition, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


sandbox = Sandbox.create()
assert sandbox.sandbox_id, "no sandbox id"

# Files: relative paths are relative to /home/user.
info = sandbox.files.write("hello.txt", "hello from the SDK")
assert info.path == "/home/user/hello.txt", info
sandbox.files.write("/home/user/src/app.py", "print('hi')")
assert sandbox.files.read("hello.txt") == "hello from the SDK"
assert sandbox.files.read("/home/user/src/app.py") == "print('hi')"
names = sorted(entry.name for entry in sandbox.files.list("/home/user"))
assert names == ["hello.txt", "src"], names
root = [entry.name for entry in sandbox.files.list("/")]
assert "home" in root and "usr" in root, root

# Commands: output reaches the callbacks while the command still runs.
# The command waits for input that is only sent once "ready" has reached the
# callback, so this passes only if output streams.
seen = []
results = []
handle = sandbox.commands.run(
    "echo ready; read answer; echo \"got $answer\"", background=True, stdin=True
)
waiter = threading.Thread(
    target=lambda: results.append(handle.wait(on_stdout=seen.append))
)
waiter.start()
wait_for(lambda: "ready\n" in "".join(seen))
sandbox.commands.send_stdin(handle.pid, "yes\n")
waiter.join(10)
assert results and results[0].exit_code == 0, results
assert "got yes" in "".join(seen), seen

result = sandbox.commands.run("echo out; echo err >&2", on_stdout=lambda d: None)
assert result.stdout == "out\n" and result.stderr == "err\n", result

try:
    sandbox.commands.run("echo failing; exit 3")
    raise AssertionError("a non-zero exit did not raise")
except CommandExitException as error:
    assert error.exit_code == 3, error
    assert error.stdout == "failing\n", error

started = time.time()
try:
    sandbox.commands.run("sleep 30", timeout=1)
    raise AssertionError("the timeout did not fire")
except TimeoutException:
    assert time.time() - started < 10
# The daemon killed the timed-out command.
wait_for(lambda: sandbox.commands.run("pgrep -x sleep || true").stdout == "")

# Kill ends the sandbox for good.
assert sandbox.kill() is True
try:
    sandbox.files.read("hello.txt")
    raise AssertionError("a killed sandbox still answered")
except AssertionError:
    raise
except Exception:
    pass

print("conformance ok")
