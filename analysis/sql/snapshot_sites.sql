-- Sites measured in a snapshot, and how many resolved (apex or www had an address).
-- Parameters: $sid.
select
    count(*)                                   as sites,
    count(*) filter (where status = 'NOERROR') as resolved
from site_outcomes
where snapshot_id = $sid
