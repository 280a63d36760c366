# E2B's image of Ollio's `react` template, made from templates/react/template.toml
# (edit that, then run `cargo test -p ollio-templates` with OLLIO_WRITE_E2B=1).
# Build it with E2B's CLI from this folder: `e2b template build`.
FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*
WORKDIR /home/user
COPY files/ /home/user/
RUN npm ci --no-audit --no-fund --cache /tmp/.npm
RUN mkdir -p /tmp/ollio && chown -R 1000:1000 /home/user /tmp/ollio
