-- What a message asked of the agent (`build`, `plan` or `ask`: the Mode
-- control beside the message box), kept on the user's message and on the
-- answer, so that Retry sends it again the same way; and for "Build this
-- plan", the plan (an assistant message of the project) it builds.
ALTER TABLE messages ADD COLUMN mode TEXT NOT NULL DEFAULT 'build';
ALTER TABLE messages ADD COLUMN plan_id TEXT;
