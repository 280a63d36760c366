-- A version the user made by saving files in the Code tab's editor keeps
-- the paths they saved (one per line): saves that follow one another with
-- no agent turn between fold into that one version ("Edited N files").
-- NULL for every other version.
ALTER TABLE versions ADD COLUMN edited TEXT;
