-- The rows of metric_weights for one snapshot: every weight of weights_computed.sql, at both
-- levels and both weightings, for the cuts $cuts (the whole list and the standard cuts or the
-- list's own buckets: analysis.aggregates.stored_cuts) and every layer $layers the snapshot has.
-- Written at the end of the snapshot's attribution (analysis.aggregates.store).
--
-- Parameters: as weights_computed.sql; $sids holds the one snapshot, $levels and $weights all of
-- theirs.
with
-- @include weights_computed.sql
select
    snapshot_id, level, weighting, nullif(cut, 9223372036854775807) as cut, layer, provider,
    sites, critical_sites, weight, share_weight, critical_weight, redundant_weight
from weights
order by level, weighting, cut nulls first, layer nulls first, provider nulls first
