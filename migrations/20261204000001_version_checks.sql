-- What the check before a turn ended found: NULL when the version was not
-- checked (made before checks, or by a restore of an unchecked version),
-- `[]` when it passed, else the problems as JSON (`ollio_domain::CheckProblem`).
ALTER TABLE versions ADD COLUMN check_problems TEXT;
