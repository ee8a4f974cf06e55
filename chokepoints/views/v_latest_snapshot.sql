-- The most recent completed snapshot.
create or replace view v_latest_snapshot as
select *
from snapshots
where status = 'complete'
order by started_at desc, snapshot_id desc
limit 1;
