-- The completed snapshots of one list family, oldest first: by list date (undated last), then
-- by start time. Failed, interrupted and running snapshots are left out.
-- Parameters: $list_name.
select snapshot_id, list_name, list_id, list_date, top_n, sites, started_at, finished_at
from snapshots
where list_name = $list_name and status = 'complete'
order by list_date nulls last, started_at, snapshot_id
