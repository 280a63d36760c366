-- What a job spent: a turn one credit, a training run none. Only a job that
-- spent something is ever refunded.
ALTER TABLE jobs ADD COLUMN credits BIGINT NOT NULL DEFAULT 1;

-- A training run of an ML model project: install, train, deploy, on one
-- version's code. Its `jobs` row (`job_id`) is the durable part; its
-- assistant message (`message_id`) carries the steps the chat shows.
CREATE TABLE training_jobs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version_id TEXT NOT NULL REFERENCES versions (id) ON DELETE CASCADE,
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    job_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('queued', 'installing', 'training', 'deploying', 'deployed', 'failed', 'cancelled')),
    -- The latest progress train.py reported, from 0 to 1.
    progress DOUBLE PRECISION,
    -- A flat JSON object of numbers: the latest metrics.
    metrics TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    -- The end of the failed step's output.
    log_tail TEXT,
    deployment_url TEXT,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX training_jobs_by_project ON training_jobs (project_id, created_at);
CREATE INDEX training_jobs_by_version ON training_jobs (version_id);
CREATE INDEX training_jobs_by_job ON training_jobs (job_id);
