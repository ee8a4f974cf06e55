-- 0008: per-snapshot aggregates, so that report, trend and diff read a few thousand rows per
-- snapshot instead of aggregating every site again (at a million sites, a trend over 20
-- snapshots took most of a minute).

-- The sums every concentration metric is computed from, written when a snapshot is attributed
-- (analysis/sql/metric_weights.sql; `chokepoints attribute` rewrites them, `chokepoints db
-- migrate` fills them in for snapshots attributed before this table existed). One row per
-- snapshot, level and cut for the cut's measured sites (layer and provider null), for each
-- layer's attributed sites (provider null), and for each provider's sites in a layer. Cuts
-- stored: the whole list (null) and those of the report's per-bucket table (top 1k, 10k, 100k,
-- 1M up to the first that holds the whole list; on bucketed lists the list's own buckets).
-- Uniform weighting counts sites; popularity sums 1/rank (1/bucket on bucketed lists). A
-- provider's market share is its share_sites (share_popularity) over its layer's sites
-- (popularity); dependence, critical and redundant are over the cut's (docs/metrics.md).
create table metric_weights (
    snapshot_id          integer not null,
    level                varchar not null,   -- provider (services apart) | org (by organisation)
    cut                  bigint,             -- the top-N sites by rank (bucket on bucketed lists); null: the whole list
    layer                varchar,            -- null: the row counts the cut's measured sites
    provider             varchar,            -- null: the row counts the layer's attributed sites
    sites                bigint not null,    -- sites counted by the row
    critical_sites       bigint,             -- of them, those with one provider alone in the layer
    share_sites          double,             -- provider rows: sum over the sites of 1 / their number of providers
    popularity           double not null,    -- the sites' popularity weight: sum of 1/rank (1/bucket)
    share_popularity     double,             -- provider rows: sum of each site's popularity / its number of providers
    critical_popularity  double,             -- popularity of the sites with one provider alone in the layer
    redundant_popularity double              -- popularity of the sites with several providers in the layer
);
