-- A match's details are the same for all ten players (SPEC §3, one fetch per
-- match): they are stored once, in their own table, and every account's row
-- in `matches` says whether that account has them (`details_state`).
--
-- `json` with lz4, not `jsonb`: PostgreSQL's time on real-size details went
-- into re-encoding them as jsonb and compressing them with pglz (FACTS.md:
-- COPY of 1,000 real details, jsonb 5.9 s, json + lz4 1.0 s). `json` still
-- checks the text is JSON, and nothing queries inside a detail in SQL. The
-- API parses the stored text and writes it out again, so it serves the same
-- bytes from either type.
CREATE TABLE match_details (
  match_id    bigint PRIMARY KEY,
  details     json COMPRESSION lz4 NOT NULL,
  -- What OpenDota does not compute per request, hashed
  -- (sync/detail_fingerprint.hpp); NULL for details stored before 006.
  fingerprint bigint,
  -- The listing's parse `version` when they were fetched: a listing that
  -- shows another one makes an account's details `stale` (fetched again).
  version     jsonb,
  fetched_at  timestamptz NOT NULL DEFAULT now()
);

-- Details stored so far, once per match. Where accounts hold different
-- details of one match (fetched at different times), the parsed ones, then
-- the newest, are kept: the others were older copies of the same match.
-- `details::text` of a jsonb is what the API served; stored as that text it
-- is served the same.
INSERT INTO match_details (match_id, details, fingerprint, version, fetched_at)
SELECT DISTINCT ON (match_id) match_id, details::text::json, details_fingerprint,
       details_version, updated_at
FROM matches
WHERE details IS NOT NULL
ORDER BY match_id, (nullif(details_version, 'null') IS NULL), updated_at DESC;

-- An account whose row kept other (older) details than the ones kept for
-- the match gets them fetched again when the listing shows another version.
ALTER TABLE matches DROP COLUMN details;
ALTER TABLE matches DROP COLUMN details_fingerprint;
ALTER TABLE matches DROP COLUMN details_version;

-- The job that gave this account's row its details by taking them from
-- another account's fetch: a full sync does not fetch those again.
ALTER TABLE matches ADD COLUMN details_job bigint;
