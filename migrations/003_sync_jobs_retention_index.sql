-- Job retention (MATCHSYNC_JOB_RETENTION_DAYS): the daily pruning pass
-- deletes the oldest terminal jobs in small batches; this index finds them
-- without scanning the whole table for each batch.
CREATE INDEX sync_jobs_terminal_by_completion ON sync_jobs (completed_at)
  WHERE status IN ('completed', 'failed', 'cancelled');
