-- 0008: per-snapshot aggregates, so that report, trend and diff read a few thousand rows per
-- snapshot instead of aggregating every site again (at a million sites, a trend over 20
-- snapshots took most of a minute).

-- The weights every concentration metric is computed from, written when a snapshot is attributed
-- (analysis/sql/metric_weights.sql; `chokepoints attribute` rewrites them, `chokepoints db
-- migrate` fills them in for snapshots attributed before this table existed). One row per
-- snapshot, level, weighting and cut for the cut's measured sites (layer and provider null), for
-- each layer's attributed sites (provider null), and for each provider's sites in a layer. Cuts
-- stored: the whole list (null) and the top 1k, 10k, 100k and 1M (on bucketed lists: the list's
-- own buckets). A market share is a provider's share_weight over its layer's weight; dependence,
-- critical and redundant are its weight, critical_weight, redundant_weight over the cut's weight
-- (docs/metrics.md).
create table metric_weights (
    snapshot_id      integer not null,
    level            varchar not null,   -- provider (services apart) | org (by organisation)
    weighting        varchar not null,   -- uniform (1 per site) | popularity (1/rank; 1/bucket on bucketed lists)
    cut              bigint,             -- the top-N sites by rank (bucket on bucketed lists); null: the whole list
    layer            varchar,            -- null: the row counts the cut's measured sites
    provider         varchar,            -- null: the row counts the layer's attributed sites
    sites            bigint not null,    -- sites counted by the row
    critical_sites   bigint,             -- of them, those with one provider alone in the layer
    weight           double not null,    -- their total weight
    share_weight     double,             -- provider rows: each site's weight divided by its number of providers
    critical_weight  double,             -- weight of the sites with one provider alone in the layer
    redundant_weight double              -- weight of the sites with several providers in the layer
);
