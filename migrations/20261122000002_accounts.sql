-- Sessions are kept by tower-sessions' own sqlx store, which creates its
-- table itself (its column types differ between SQLite and PostgreSQL).
DROP TABLE sessions;

-- Failed sign-ins, for throttling. `key` is `account:<email>` or `ip:<address>`.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);
