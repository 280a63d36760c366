-- A provider a user adds may have its own base URL (an OpenAI-compatible
-- server of theirs), and keeps the models it listed when its connection
-- was last tested (`models`: one name per line), for the model pickers.
ALTER TABLE provider_keys ADD COLUMN base_url TEXT;
ALTER TABLE provider_keys ADD COLUMN models TEXT;
ALTER TABLE provider_keys ADD COLUMN tested_at BIGINT;
