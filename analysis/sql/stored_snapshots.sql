-- The snapshots among $sids whose metric_weights rows hold every cut of $cuts (the whole list as
-- the largest bigint) at level $level.
-- Parameters: $sids integer[], $cuts bigint[] (distinct, no null), $level.
select snapshot_id
from metric_weights
where layer is null
  and level = $level
  and list_contains($sids::integer[], snapshot_id)
  and list_contains($cuts::bigint[], coalesce(cut, 9223372036854775807))
group by snapshot_id
having count(distinct coalesce(cut, 9223372036854775807)) = len($cuts::bigint[])
order by snapshot_id
