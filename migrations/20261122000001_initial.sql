-- Ollio's first schema. One portable dialect for SQLite and PostgreSQL:
-- TEXT ids (UUIDv7), BIGINT unix-millisecond timestamps, TEXT JSON, and
-- counters instead of booleans. Every project-owned row cascades from projects,
-- and projects cascade from their owner.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    data TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    template TEXT NOT NULL,
    model TEXT,
    -- Last sequence number handed to this project's message_events.
    event_seq BIGINT NOT NULL DEFAULT 0,
    -- Last version number handed to this project's fragments.
    version_seq BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX projects_by_owner ON projects (owner_id, updated_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'cancelled')),
    error TEXT,
    model TEXT,
    tokens_in BIGINT NOT NULL DEFAULT 0,
    tokens_out BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX messages_by_project ON messages (project_id, created_at);

CREATE TABLE message_events (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, seq)
);
CREATE INDEX message_events_by_message ON message_events (message_id);

CREATE TABLE fragments (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    message_id TEXT REFERENCES messages (id) ON DELETE SET NULL,
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    template TEXT NOT NULL,
    sandbox_id TEXT,
    preview_url TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, version)
);

CREATE TABLE fragment_files (
    fragment_id TEXT NOT NULL REFERENCES fragments (id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    content TEXT NOT NULL,
    language TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (fragment_id, path)
);

CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead', 'cancelled')),
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, run_at);

CREATE TABLE usage (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    credits_limit BIGINT NOT NULL,
    credits_used BIGINT NOT NULL DEFAULT 0,
    period_start BIGINT NOT NULL
);

CREATE TABLE sandboxes (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    backend TEXT NOT NULL,
    template TEXT NOT NULL,
    state TEXT NOT NULL,
    preview_url TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sandboxes_by_project ON sandboxes (project_id);
