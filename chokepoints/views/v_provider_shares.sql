-- Per snapshot, layer and provider: sites depending on it, market share, dependence, critical
-- and redundant share; uniform weighting (every site weighs 1), provider level (services apart),
-- the whole list. Shares are fractions 0..1: share over the layer's attributed sites (each
-- site split equally over its providers there); dependence, critical (the site's only provider
-- in the layer) and redundant (one of several) over all measured sites of the snapshot.
-- The same numbers as `chokepoints report --format json` (analysis/sql/provider_shares.sql).
create or replace view v_provider_shares as
with
site_providers as (   -- each measured site's distinct providers per layer
    select distinct d.snapshot_id, d.layer, d.domain, d.provider
    from dependencies as d
    semi join site_outcomes as o on o.snapshot_id = d.snapshot_id and o.domain = d.domain
),
counted as (
    select *, count(*) over (partition by snapshot_id, layer, domain) as n_providers
    from site_providers
),
measured as (   -- every measured site, attributed or not: the denominator of dependence
    select snapshot_id, count(*) as sites
    from site_outcomes
    group by all
),
attributed as (   -- per layer: the sites with at least one provider
    select snapshot_id, layer, count(distinct domain) as sites
    from site_providers
    group by all
),
per_provider as (
    select
        snapshot_id, layer, provider,
        count(*)                                   as sites,
        count(*) filter (where n_providers = 1)    as critical_sites,
        count(*) filter (where n_providers > 1)    as redundant_sites,
        sum(1.0 / n_providers)                     as share_sites
    from counted
    group by all
)
select
    p.snapshot_id,
    p.layer,
    p.provider,
    pr.name,
    'provider'                                     as level,
    p.sites,
    p.critical_sites,
    p.redundant_sites,
    p.share_sites / a.sites                        as share,
    p.sites / m.sites                              as dependence,
    p.critical_sites / m.sites                     as critical,
    p.redundant_sites / m.sites                    as redundant
from per_provider as p
join attributed as a using (snapshot_id, layer)
join measured as m using (snapshot_id)
left join providers as pr on pr.snapshot_id = p.snapshot_id and pr.provider = p.provider;
