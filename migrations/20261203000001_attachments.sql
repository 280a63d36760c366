-- A file a user attached to a message. It is uploaded first and waits,
-- staged by its owner (`message_id` null), until a message carries it; then
-- it belongs to that user message, in `position` order. Its bytes are a
-- blob (`attachments/{id}`), not a row.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id TEXT REFERENCES messages (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    size BIGINT NOT NULL,
    position BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_by_owner ON attachments (owner_id, message_id);
CREATE INDEX attachments_by_message ON attachments (message_id, position);
