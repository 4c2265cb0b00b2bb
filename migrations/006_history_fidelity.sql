-- History fidelity on real OpenDota data (issue 16).

-- Details stored with the escapes jsonb refuses (\u0000, a lone surrogate)
-- replaced by U+FFFD: how many matches this job stored so (SPEC §2).
ALTER TABLE sync_jobs ADD COLUMN repaired_matches integer NOT NULL DEFAULT 0;
