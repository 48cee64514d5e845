-- Who asked for a run: the user of an API call or a CLI command (scheduled runs: NULL).
ALTER TABLE job_runs ADD COLUMN requested_by TEXT;
-- What the scheduler asks on every tick: the last chain it completed, runs still running.
CREATE INDEX job_runs_status ON job_runs (status, trigger);
