-- Version 4: an execution started by a record trigger keeps how many record triggers
-- led to it (0: started otherwise), so that a trigger whose workflow writes the type
-- that fires it again stops at the documented limit instead of looping forever.
ALTER TABLE executions ADD COLUMN trigger_depth INTEGER NOT NULL DEFAULT 0;
