-- History fidelity on real OpenDota data (issue 16).

-- Details stored with the escapes jsonb refuses (\u0000, a lone surrogate)
-- replaced by U+FFFD: how many matches this job stored so (SPEC §2).
ALTER TABLE sync_jobs ADD COLUMN repaired_matches integer NOT NULL DEFAULT 0;

-- What of the stored details OpenDota does not compute per request, hashed
-- (sync/detail_fingerprint.hpp): a full sync counts a match updated only
-- when it changes (SPEC §3), without reading the old details back. NULL for
-- details stored before this migration.
ALTER TABLE matches ADD COLUMN details_fingerprint bigint;

-- Replays are parsed days after a match: the listing's `version` goes from
-- null to a number, and only then do the details hold the replay's data.
-- `details_version` is the listing's version when the details were stored;
-- a listing that shows another (non-null) one marks them `stale`: stored,
-- shown, and fetched again by the next sync (SPEC §3). Details stored
-- before this migration were fetched with the version their row lists now.
ALTER TABLE matches ADD COLUMN details_version jsonb;
UPDATE matches SET details_version = summary->'version' WHERE details IS NOT NULL;
ALTER TABLE matches DROP CONSTRAINT matches_details_state_check;
ALTER TABLE matches ADD CONSTRAINT matches_details_state_check
  CHECK (details_state IN ('missing', 'fetched', 'none', 'failed', 'stale'));
DROP INDEX matches_lacking_details;
CREATE INDEX matches_lacking_details ON matches (account_id, match_id DESC)
  WHERE details_state IN ('missing', 'failed', 'stale');
