-- A failed turn's credit is given back once: the refund is recorded on its
-- job, in the same transaction as the failed message.
ALTER TABLE jobs ADD COLUMN refunded_at BIGINT;
-- The reconciler looks for unfinished assistant messages; they are few.
CREATE INDEX messages_unfinished ON messages (status) WHERE status IN ('pending', 'running');
