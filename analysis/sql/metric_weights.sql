-- The rows of metric_weights for one snapshot: the sums of weights_computed.sql at both levels,
-- for the cuts $cuts (the whole list and those of analysis.aggregates.stored_cuts) and every
-- layer $layers the snapshot has. Written at the end of the snapshot's attribution
-- (analysis.aggregates.store).
--
-- Parameters: as weights_computed.sql; $sids holds the one snapshot, $levels both levels.
with
-- @include weights_computed.sql
select
    snapshot_id, level, nullif(cut, 9223372036854775807) as cut, layer, provider,
    sites, critical_sites, share_sites, popularity, share_popularity, critical_popularity,
    redundant_popularity
from sums
order by level, cut nulls first, layer nulls first, provider nulls first
