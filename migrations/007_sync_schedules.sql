-- Automatic syncs (SPEC §3 Schedules, §4 SyncJob.triggered_by).

-- Who started a job. Every job before this migration was a user's.
ALTER TABLE sync_jobs ADD COLUMN triggered_by text NOT NULL DEFAULT 'user'
  CHECK (triggered_by IN ('user', 'schedule'));

-- One schedule per user; no row means off. next_run_at is the next due time
-- (the user's stable phase within the interval included); a run put off for
-- the quota share moves it to the next quota day. A due row is advanced in
-- the transaction that creates its job, which makes a due time run once
-- across restarts.
CREATE TABLE sync_schedules (
  user_id          bigint PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  enabled          boolean NOT NULL DEFAULT false,
  interval_minutes integer NOT NULL CHECK (interval_minutes BETWEEN 15 AND 10080),
  next_run_at      timestamptz,
  -- No foreign key: job retention may delete the job, the schedule keeps the id.
  last_run_job_id  bigint,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sync_schedules_due ON sync_schedules (next_run_at) WHERE enabled;
