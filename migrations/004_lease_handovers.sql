-- Planned handovers (a graceful stop, a clean leave) do not count against
-- job_max_attempts (SPEC §3): `attempt` numbers every run of a job (it fences
-- stale owners), `handovers` counts the runs that ended by plan, so the runs
-- whose owner was lost are attempt - handovers.
ALTER TABLE sync_jobs ADD COLUMN handovers integer NOT NULL DEFAULT 0;
