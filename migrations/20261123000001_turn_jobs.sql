-- A turn job names the assistant message it fills in, so Stop can find it.
ALTER TABLE jobs ADD COLUMN message_id TEXT;
CREATE INDEX jobs_by_message ON jobs (message_id);
