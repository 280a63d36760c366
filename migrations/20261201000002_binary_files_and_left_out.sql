-- Binary files a project makes (images, fonts, later trained models) are
-- kept in versions as base64 text; `encoding` says which. What a version
-- left out (dependencies, build output, files over the limits) is listed
-- with it, as JSON: [{"path": "node_modules", "reason": "dependencies"}].
ALTER TABLE version_files ADD COLUMN encoding TEXT NOT NULL DEFAULT 'utf8';
ALTER TABLE versions ADD COLUMN left_out TEXT NOT NULL DEFAULT '[]';
