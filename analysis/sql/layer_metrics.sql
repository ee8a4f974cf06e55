-- Per snapshot, popularity cut and layer: sites measured and attributed, the share of all sites
-- depending on one provider alone (critical) or on several (redundant), and the concentration of
-- the market shares: HHI, CR-1/3/5, Nakamoto coefficient, Gini, Shannon entropy (also normalised
-- by log of the number of providers), exactly as DESIGN.md "Metrics" defines them (the Python
-- reference is analysis.metrics: hhi, cr, nakamoto, gini, entropy).
--
-- Parameters (as in provider_shares.sql, whose chain this repeats):
--   $sids       integer[]  the snapshots
--   $cuts       bigint[]   popularity cuts (null: the whole list)
--   $layers     varchar[]  the layers; every one gets a row, with zeros when nothing is attributed
--   $weight     varchar    'uniform' or 'popularity'
--   $level      varchar    'provider' or 'org'
with
-- >>> shared chain: identical in provider_shares.sql and layer_metrics.sql (a test checks)
scope as (   -- one row per (snapshot, cut); the whole list is cut at the largest bigint, so
             -- that every join on cut is a plain equality (null is put back at the end)
    select s.snapshot_id, coalesce(c.cut, 9223372036854775807) as cut
    from (select unnest($sids::integer[]) as snapshot_id) as s
    cross join (select unnest($cuts::bigint[]) as cut) as c
),
positions as (   -- each listed site's popularity position: its best rank and bucket
    select snapshot_id, domain, min(rank) as rank, min(bucket) as bucket
    from list_entries
    where list_contains($sids::integer[], snapshot_id)
    group by all
),
sites as (   -- the measured sites of each (snapshot, cut), with their weight
    select
        sc.snapshot_id,
        sc.cut,
        o.domain,
        case when $weight = 'uniform' then 1.0::double
             else coalesce(1.0 / nullif(p.bucket, 0)::double, 1.0 / nullif(p.rank, 0)::double, 0.0)
        end as weight
    from scope as sc
    join site_outcomes as o on o.snapshot_id = sc.snapshot_id
    left join positions as p on p.snapshot_id = o.snapshot_id and p.domain = o.domain
    where sc.cut = 9223372036854775807 or coalesce(p.bucket, p.rank) <= sc.cut
),
site_providers as (   -- each site's distinct providers per layer (org level: one per organisation)
    select distinct
        d.snapshot_id,
        d.layer,
        d.domain,
        case when $level = 'org' then coalesce(pr.org, d.provider) else d.provider end as provider
    from dependencies as d
    left join providers as pr on pr.snapshot_id = d.snapshot_id and pr.provider = d.provider
    where list_contains($sids::integer[], d.snapshot_id) and list_contains($layers::varchar[], d.layer)
),
site_layers as (   -- per site and layer: how many providers it has there
    select snapshot_id, layer, domain, count(*) as n_providers
    from site_providers
    group by all
),
attributed_sites as (   -- the sites of each cut with at least one provider in the layer
    select s.snapshot_id, s.cut, sl.layer, s.domain, s.weight, sl.n_providers
    from site_layers as sl
    join sites as s on s.snapshot_id = sl.snapshot_id and s.domain = sl.domain
),
totals as (   -- all measured sites of each cut: the denominator of dependence, critical, redundant
    select snapshot_id, cut, count(*) as sites, sum(weight) as weight
    from sites
    group by all
),
layer_weights as (   -- per layer: attributed sites, those with one provider and those with more
    select
        snapshot_id, cut, layer,
        count(*)                                                  as attributed,
        sum(weight)                                               as attributed_weight,
        count(*) filter (where n_providers = 1)                   as critical_sites,
        coalesce(sum(weight) filter (where n_providers = 1), 0.0) as critical_weight,
        coalesce(sum(weight) filter (where n_providers > 1), 0.0) as redundant_weight
    from attributed_sites
    group by all
),
provider_weights as (   -- per provider: its weights under each definition
    select
        a.snapshot_id, a.cut, a.layer, sp.provider,
        count(*)                                                    as sites,
        count(*) filter (where a.n_providers = 1)                   as critical_sites,
        sum(a.weight / a.n_providers)                               as share_weight,
        sum(a.weight)                                               as dependence_weight,
        coalesce(sum(a.weight) filter (where a.n_providers = 1), 0.0) as critical_weight,
        coalesce(sum(a.weight) filter (where a.n_providers > 1), 0.0) as redundant_weight
    from attributed_sites as a
    join site_providers as sp
        on sp.snapshot_id = a.snapshot_id and sp.layer = a.layer and sp.domain = a.domain
    group by all
),
provider_shares as (   -- the weights as shares
    select
        pw.snapshot_id, pw.cut, pw.layer, pw.provider,
        pw.sites,
        pw.critical_sites,
        pw.sites - pw.critical_sites                                       as redundant_sites,
        pw.share_weight,
        coalesce(pw.share_weight / nullif(lw.attributed_weight, 0), 0.0)   as share,
        coalesce(pw.dependence_weight / nullif(t.weight, 0), 0.0)          as dependence,
        coalesce(pw.critical_weight / nullif(t.weight, 0), 0.0)            as critical,
        coalesce(pw.redundant_weight / nullif(t.weight, 0), 0.0)           as redundant
    from provider_weights as pw
    join layer_weights as lw using (snapshot_id, cut, layer)
    join totals as t using (snapshot_id, cut)
),
-- <<< shared chain
ranked as (   -- each layer's providers by share, largest first, with the running total; shares
              -- rounded for ordering only, so that float noise never reorders equal shares
    select
        snapshot_id, cut, layer, provider, share,
        row_number() over by_share_desc                                                 as position,
        sum(share) over (by_share_desc rows between unbounded preceding and current row) as cumulative,
        row_number() over (partition by snapshot_id, cut, layer order by round(share, 12), provider) as ascending
    from provider_shares
    window by_share_desc as (partition by snapshot_id, cut, layer order by round(share, 12) desc, provider)
),
concentration as (
    select
        snapshot_id, cut, layer,
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
layer_scope as (   -- every requested layer of every (snapshot, cut), attributed or not
    select sc.snapshot_id, sc.cut, l.layer
    from scope as sc
    cross join (select unnest($layers::varchar[]) as layer) as l
)
select
    x.snapshot_id,
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
left join totals as t using (snapshot_id, cut)
left join layer_weights as lw using (snapshot_id, cut, layer)
left join concentration as c using (snapshot_id, cut, layer)
order by x.snapshot_id, x.cut nulls last, x.layer
