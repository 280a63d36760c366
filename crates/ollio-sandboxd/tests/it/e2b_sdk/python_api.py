"""E2B's official Python SDK creates a `python-api` sandbox on Ollio's sandboxd
and reaches the app's docs page through the preview host.

The SDK is never asked to start the app: the template's supervisor starts it
when the sandbox is made, as an E2B template's start command does. Run by
tests/it/e2b_sdk.rs with E2B_API_URL, E2B_SANDBOX_URL, E2B_API_KEY and
E2B_DOMAIN pointing at a daemon it started; OLLIO_DAEMON is its host:port.
"""

import os
import time

import httpx
from e2b import Sandbox

daemon = os.environ["OLLIO_DAEMON"]

sandbox = Sandbox.create(template="python-api")
host = sandbox.get_host(8000)
assert host == f"8000-{sandbox.sandbox_id}.{os.environ['E2B_DOMAIN']}", host


def get(path):
    # The preview host names a *.localhost subdomain, which this machine's
    # resolver does not know: connect to the daemon and name the host (with
    # its port, as a browser does; the daemon serves previews only under
    # its own domain).
    return httpx.get(f"http://{daemon}{path}", headers={"Host": host}, timeout=10)


# The app comes up by itself; wait on its state, at most 90 seconds.
deadline = time.time() + 90
while True:
    try:
        docs = get("/docs")
        if docs.status_code == 200:
            break
    except httpx.TransportError:
        pass
    if time.time() > deadline:
        log = sandbox.commands.run("tail -n 40 /tmp/ollio/app.log || true").stdout
        raise AssertionError(f"the docs page never answered; the app's log:\n{log}")
    time.sleep(0.1)

page = docs.text
assert "swagger-ui" in page.lower(), page[:400]
assert "cdn.jsdelivr.net" not in page, "the docs page loads its scripts from a CDN"
scripts = [part.split('"')[0] for part in page.split('src="')[1:]]
assert scripts, page[:400]
for script in scripts:
    assert script.startswith("/"), f"a script from another origin: {script}"
    body = get(script)
    assert body.status_code == 200 and len(body.content) > 1000, (script, body.status_code)

health = get("/health")
assert health.status_code == 200 and health.json() == {"status": "ok"}, health.text

# A command through the SDK sees the same app.
inside = sandbox.commands.run(
    "python3 -c \"import urllib.request as u; "
    "print(u.urlopen('http://127.0.0.1:8000/health').read().decode())\""
)
assert '"ok"' in inside.stdout, inside

assert sandbox.kill() is True
print("python-api ok")
