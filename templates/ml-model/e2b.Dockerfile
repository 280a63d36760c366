# E2B's image of Ollio's `ml-model` template, made from templates/ml-model/template.toml
# (edit that, then run `cargo test -p ollio-templates` with OLLIO_WRITE_E2B=1).
# Build it with E2B's CLI from this folder: `e2b template build`.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl python3 python3-venv && rm -rf /var/lib/apt/lists/*
WORKDIR /home/user
COPY files/ /home/user/
COPY support/ /tmp/ollio-support/
RUN /usr/bin/python3 -m venv .venv && .venv/bin/pip install --no-cache-dir --disable-pip-version-check -q -r requirements.txt && cp /tmp/ollio-support/* "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
RUN mkdir -p /tmp/ollio && chown -R 1000:1000 /home/user /tmp/ollio
