-- How a snapshot's list ranks its sites: the deepest position (rank, or bucket on bucketed lists
-- such as CrUX and Radar) and the list's distinct buckets (empty for exactly ranked lists).
-- Parameters: $sid.
select
    max(coalesce(bucket, rank))                                   as deepest,
    count(bucket)                                                 as bucketed_entries,
    coalesce(list(distinct bucket order by bucket) filter (where bucket is not null), [])
                                                                  as buckets
from list_entries
where snapshot_id = $sid
