-- The first schema: users, sync jobs, matches and the per-account sync state.
-- The `cancelled` job status arrives in 002, as a deployed system received it.

CREATE TYPE job_status AS ENUM ('pending', 'running', 'completed', 'failed');
CREATE TYPE job_type AS ENUM ('incremental_sync', 'full_sync');

CREATE TABLE users (
  id          bigserial PRIMARY KEY,
  account_id  bigint NOT NULL UNIQUE,
  name        text,
  token_hash  text UNIQUE,          -- hex SHA-256 of the API token
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sync_jobs (
  id                  bigserial PRIMARY KEY,
  user_id             bigint NOT NULL REFERENCES users(id),
  account_id          bigint NOT NULL,
  job_type            job_type NOT NULL DEFAULT 'incremental_sync',
  status              job_status NOT NULL DEFAULT 'pending',
  phase               text CHECK (phase IN ('listing', 'details')),
  total_matches       integer NOT NULL DEFAULT 0,
  processed_matches   integer NOT NULL DEFAULT 0,
  new_matches         integer NOT NULL DEFAULT 0,
  updated_matches     integer NOT NULL DEFAULT 0,
  failed_matches      integer NOT NULL DEFAULT 0,
  -- Ownership: the node running the job, fenced by attempt, kept by a lease.
  node                text,
  attempt             integer NOT NULL DEFAULT 0,
  lease_expires_at    timestamptz,
  -- Resume point: the last committed step of the sync engine.
  list_offset         integer NOT NULL DEFAULT 0,
  list_top_match_id   bigint,       -- newest match seen by this job's listing
  detail_cursor       bigint,       -- details done for match ids >= this
  created_at          timestamptz NOT NULL DEFAULT now(),
  started_at          timestamptz,
  completed_at        timestamptz,
  cancel_requested_at timestamptz,
  error_message       text
);

-- At most one pending or running job per user, whatever the coordinator thinks.
CREATE UNIQUE INDEX sync_jobs_one_active_per_user
  ON sync_jobs (user_id) WHERE status IN ('pending', 'running');
CREATE INDEX sync_jobs_by_user ON sync_jobs (user_id, id DESC);
CREATE INDEX sync_jobs_running ON sync_jobs (lease_expires_at) WHERE status = 'running';

-- One row per (account, match): the player's summary and the match details.
CREATE TABLE matches (
  account_id     bigint NOT NULL,
  match_id       bigint NOT NULL,
  player_slot    integer,
  radiant_win    boolean,
  duration       integer,
  game_mode      integer,
  lobby_type     integer,
  hero_id        integer,
  start_time     bigint,
  kills          integer,
  deaths         integer,
  assists        integer,
  summary        jsonb NOT NULL,    -- the upstream list item, unknown fields kept
  details        jsonb,
  -- missing: not fetched yet; fetched; none: upstream has none (404); failed:
  -- retries exhausted, a later sync tries again.
  details_state  text NOT NULL DEFAULT 'missing'
                 CHECK (details_state IN ('missing', 'fetched', 'none', 'failed')),
  changed_by_job bigint,            -- last job that changed this row
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, match_id)
);
CREATE INDEX matches_lacking_details ON matches (account_id, match_id DESC)
  WHERE details_state IN ('missing', 'failed');

-- Where an account's history is known complete: every upstream match with
-- match_id <= complete_through is stored. Incremental listing stops there.
CREATE TABLE account_sync_state (
  account_id        bigint PRIMARY KEY,
  complete_through  bigint NOT NULL,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
