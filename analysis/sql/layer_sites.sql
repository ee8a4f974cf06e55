-- Per layer: how many of the snapshot's sites have at least one provider there.
-- Parameters: $sid.
select layer, count(distinct domain) as attributed
from dependencies
where snapshot_id = $sid
group by layer
