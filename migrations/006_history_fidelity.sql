-- History fidelity on real OpenDota data (issue 16).

-- Details stored with the escapes jsonb refuses (\u0000, a lone surrogate)
-- replaced by U+FFFD: how many matches this job stored so (SPEC §2).
ALTER TABLE sync_jobs ADD COLUMN repaired_matches integer NOT NULL DEFAULT 0;

-- What of the stored details OpenDota does not compute per request, hashed
-- (sync/detail_fingerprint.hpp): a full sync counts a match updated only
-- when it changes (SPEC §3), without reading the old details back. NULL for
-- details stored before this migration.
ALTER TABLE matches ADD COLUMN details_fingerprint bigint;
