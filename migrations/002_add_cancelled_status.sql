-- Jobs can be cancelled by their user (SPEC §3). Added to the existing type,
-- as the deployed system received it.
ALTER TYPE job_status ADD VALUE 'cancelled';
