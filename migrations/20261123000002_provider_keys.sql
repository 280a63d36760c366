-- Users' own model-provider keys, sealed with the server's secret key
-- (ChaCha20-Poly1305, bound to the user and the provider). `hint` is the
-- key's last four characters, to tell keys apart in settings.
CREATE TABLE provider_keys (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    sealed TEXT NOT NULL,
    hint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, provider)
);
