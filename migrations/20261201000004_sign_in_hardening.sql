-- A sign-in attempt is counted before its password is checked; `attempt`
-- names the rows of one attempt, taken back when it succeeds.
ALTER TABLE login_failures ADD COLUMN attempt TEXT;
CREATE INDEX login_failures_by_attempt ON login_failures (attempt);
-- Sessions remember the epoch they began in; changing the password moves
-- it on, which ends every other session of the account.
ALTER TABLE users ADD COLUMN session_epoch BIGINT NOT NULL DEFAULT 0;
