-- Per snapshot, level, weighting, popularity cut, layer and provider: sites, market share,
-- dependence, critical and redundant share, exactly as DESIGN.md "Metrics" defines them (the
-- Python reference is analysis.metrics: market_shares, dependence_shares, critical_shares,
-- redundant_shares).
--
-- Parameters:
--   $sids       integer[]  the snapshots
--   $cuts       bigint[]   popularity cuts: keep the sites whose rank (bucket, on bucketed lists)
--                          is at most the cut; a null cut is the whole list
--   $layers     varchar[]  the layers
--   $levels     varchar[]  'provider' (services apart) and/or 'org' (grouped by organisation)
--   $weights    varchar[]  'uniform' (every site weighs 1) and/or 'popularity' (1/rank; 1/bucket
--                          on bucketed lists such as CrUX and Radar, where the order inside a
--                          bucket is alphabetical, not popularity)
--   $providers  varchar[]  only these providers in the result (null: all of them)
--
-- Denominators: share over the weight of the layer's attributed sites, each site's weight split
-- equally over its providers there; dependence, critical and redundant over the weight of all
-- measured sites of the cut, attributed or not.
--
-- The weights come from the line below, which analysis.summary.metric_sql replaces by
-- weights_stored.sql (the stored metric_weights) or weights_computed.sql (from the crawl's rows).
with
-- @weights
,
-- @include shares_chain.sql
select * replace (nullif(cut, 9223372036854775807) as cut)
from provider_shares
where $providers::varchar[] is null or list_contains($providers::varchar[], provider)
order by snapshot_id, level, weighting, cut nulls last, layer, round(share, 12) desc, provider
