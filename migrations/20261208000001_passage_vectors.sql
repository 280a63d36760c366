-- "Ask where…" in the Code tab: an embeddings model's vector for a passage
-- of one user's code, by the model's name and the SHA-256 (hex) of what was
-- embedded (the path and the passage's lines). A passage is embedded once,
-- whichever of the user's versions, server processes or restarts asks
-- next; it goes with the account. The vector is its f32 values,
-- little-endian, in base64.
CREATE TABLE passage_vectors (
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    passage TEXT NOT NULL,
    vector TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (owner_id, model, passage)
);
