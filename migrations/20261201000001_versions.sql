-- A project's saved versions were called fragments in the first schema;
-- every other part of Ollio says version. Renamed, nothing else changes.
ALTER TABLE fragments RENAME TO versions;
ALTER TABLE fragment_files RENAME TO version_files;
ALTER TABLE version_files RENAME COLUMN fragment_id TO version_id;
ALTER TABLE sandboxes RENAME COLUMN fragment_id TO version_id;
