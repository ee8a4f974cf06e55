-- The CTE chain shared by provider_shares.sql and layer_metrics.sql (included where they say
-- `-- @include shares_chain.sql`): scope, site weights, provider weights, layer weights, shares.
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
)
