-- Per snapshot, level, weighting, popularity cut and layer: sites measured and attributed, the
-- share of all sites depending on one provider alone (critical) or on several (redundant), and the
-- concentration of the market shares: HHI, CR-1/3/5, Nakamoto coefficient, Gini, Shannon entropy
-- (also normalised by log of the number of providers), exactly as DESIGN.md "Metrics" defines them
-- (the Python reference is analysis.metrics: hhi, cr, nakamoto, gini, entropy).
--
-- Parameters (as in provider_shares.sql, whose weights and chain this shares):
--   $sids       integer[]  the snapshots
--   $cuts       bigint[]   popularity cuts (null: the whole list)
--   $layers     varchar[]  the layers; every one gets a row, with zeros when nothing is attributed
--   $levels     varchar[]  'provider' and/or 'org'
--   $weights    varchar[]  'uniform' and/or 'popularity'
--
-- The weights come from the line below (weights_stored.sql or weights_computed.sql, chosen by
-- analysis.summary.metric_sql).
with
-- @weights
,
-- @include shares_chain.sql
,
ranked as (   -- each layer's providers by share, largest first, with the running total; shares
              -- rounded for ordering only, so that float noise never reorders equal shares
    select
        snapshot_id, level, weighting, cut, layer, provider, share,
        row_number() over by_share_desc                                                 as position,
        sum(share) over (by_share_desc rows between unbounded preceding and current row) as cumulative,
        row_number() over (partition by snapshot_id, level, weighting, cut, layer
                           order by round(share, 12), provider)                         as ascending
    from provider_shares
    window by_share_desc as (partition by snapshot_id, level, weighting, cut, layer
                             order by round(share, 12) desc, provider)
),
concentration as (
    select
        snapshot_id, level, weighting, cut, layer,
        count(*)                                                   as providers,
        sum((100.0 * share) * (100.0 * share))                     as hhi,
        sum(share) filter (where position <= 1)                    as cr1,
        sum(share) filter (where position <= 3)                    as cr3,
        sum(share) filter (where position <= 5)                    as cr5,
        -- fewest providers whose shares together exceed 50%
        min(position) filter (where cumulative > 0.5 + 1e-12)      as nakamoto,
        -- Gini over the shares in ascending order: 2 sum(i s_i) / (n sum(s)) - (n + 1) / n
        2.0 * sum(ascending * share) / nullif(count(*) * sum(share), 0)
            - (count(*) + 1.0) / count(*)                          as gini,
        -sum(share * ln(share)) filter (where share > 0)           as entropy,
        count(*) filter (where share > 0)                          as positive_shares,
        max(provider) filter (where position = 1)                  as top_provider
    from ranked
    group by all
),
layer_scope as (   -- every requested layer of every (snapshot, level, weighting, cut), attributed
                   -- or not
    select sc.snapshot_id, lv.level, w.weighting, sc.cut, l.layer
    from scope as sc
    cross join (select unnest($levels::varchar[]) as level) as lv
    cross join (select unnest($weights::varchar[]) as weighting) as w
    cross join (select unnest($layers::varchar[]) as layer) as l
)
select
    x.snapshot_id,
    x.level,
    x.weighting,
    nullif(x.cut, 9223372036854775807)                                    as cut,
    x.layer,
    coalesce(t.sites, 0)                                                  as sites,
    coalesce(lw.attributed, 0)                                            as attributed,
    coalesce(t.sites, 0) - coalesce(lw.attributed, 0)                     as unattributed,
    coalesce(t.weight, 0.0)                                               as weight,
    coalesce(lw.attributed_weight, 0.0)                                   as attributed_weight,
    coalesce((t.weight - coalesce(lw.attributed_weight, 0.0)) / nullif(t.weight, 0), 0.0)
                                                                          as unattributed_share,
    coalesce(lw.critical_weight / nullif(t.weight, 0), 0.0)               as critical,
    coalesce(lw.redundant_weight / nullif(t.weight, 0), 0.0)              as redundant,
    coalesce(c.providers, 0)                                              as providers,
    coalesce(c.hhi, 0.0)                                                  as hhi,
    coalesce(c.cr1, 0.0)                                                  as cr1,
    coalesce(c.cr3, 0.0)                                                  as cr3,
    coalesce(c.cr5, 0.0)                                                  as cr5,
    coalesce(c.nakamoto, c.providers, 0)                                  as nakamoto,
    coalesce(c.gini, 0.0)                                                 as gini,
    coalesce(c.entropy, 0.0)                                              as entropy,
    case when c.positive_shares > 1 then c.entropy / ln(c.positive_shares) else 0.0 end
                                                                          as entropy_normalised,
    c.top_provider
from layer_scope as x
left join totals as t using (snapshot_id, level, weighting, cut)
left join layer_weights as lw using (snapshot_id, level, weighting, cut, layer)
left join concentration as c using (snapshot_id, level, weighting, cut, layer)
order by x.snapshot_id, x.level, x.weighting, x.cut nulls last, x.layer
