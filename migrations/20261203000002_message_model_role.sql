-- Why an assistant message's model was the one that ran it: `build` (the
-- project's model, or the default) or `quick edit` (the edit model, for a
-- short follow-up). Shown beside the model's name in the chat.
ALTER TABLE messages ADD COLUMN model_role TEXT;
