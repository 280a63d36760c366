-- A sandbox that only previews an older version names it; NULL is the
-- project's working sandbox, the one turns reuse.
ALTER TABLE sandboxes ADD COLUMN fragment_id TEXT REFERENCES fragments (id) ON DELETE CASCADE;
