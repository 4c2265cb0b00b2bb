-- The upstream's daily quota, shared by every node and kept across restarts
-- (SPEC §2): one row per upstream day (the date its day starts on, by
-- MATCHSYNC_UPSTREAM_DAY_START_UTC), counting the requests started that day.
CREATE TABLE upstream_quota (
  day        date PRIMARY KEY,
  used       integer NOT NULL DEFAULT 0,
  -- The upstream itself said the day is spent (X-Rate-Limit-Remaining-Day: 0
  -- or its daily-limit body), whatever our own count says.
  spent_at   timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- A running job out of daily quota waits until this time (phase
-- waiting_quota in the API); NULL otherwise.
ALTER TABLE sync_jobs ADD COLUMN resume_at timestamptz;
