-- Per snapshot and layer: sites measured and attributed, the share of all sites depending on
-- one provider alone (critical) or on several (redundant), and the concentration of the market
-- shares: HHI (0..10,000), CR-1/3/5, Nakamoto coefficient (fewest providers past 50%), Gini,
-- Shannon entropy (natural log; normalised by the log of the number of providers) and the top
-- provider. Uniform weighting, provider level, the whole list; every snapshot with outcomes
-- gets a row for each of hosting, dns, cdn, email (and any other layer it has).
-- The same numbers as `chokepoints report --format json` (analysis/sql/layer_metrics.sql).
create or replace view v_layer_concentration as
with
site_providers as (   -- each measured site's distinct providers per layer
    select distinct d.snapshot_id, d.layer, d.domain, d.provider
    from dependencies as d
    semi join site_outcomes as o on o.snapshot_id = d.snapshot_id and o.domain = d.domain
),
site_layers as (   -- per site and layer: how many providers it has there
    select snapshot_id, layer, domain, count(*) as n_providers
    from site_providers
    group by all
),
measured as (
    select snapshot_id, count(*) as sites
    from site_outcomes
    group by all
),
layer_sites as (
    select
        snapshot_id, layer,
        count(*)                                   as attributed,
        count(*) filter (where n_providers = 1)    as critical_sites,
        count(*) filter (where n_providers > 1)    as redundant_sites
    from site_layers
    group by all
),
shares as (
    select sp.snapshot_id, sp.layer, sp.provider, sum(1.0 / sl.n_providers) / ls.attributed as share
    from site_providers as sp
    join site_layers as sl using (snapshot_id, layer, domain)
    join layer_sites as ls using (snapshot_id, layer)
    group by sp.snapshot_id, sp.layer, sp.provider, ls.attributed
),
ranked as (
    select
        *,
        row_number() over by_share_desc                                                 as position,
        sum(share) over (by_share_desc rows between unbounded preceding and current row) as cumulative,
        row_number() over (partition by snapshot_id, layer order by round(share, 12), provider)     as ascending
    from shares
    window by_share_desc as (partition by snapshot_id, layer order by round(share, 12) desc, provider)
),
concentration as (
    select
        snapshot_id, layer,
        count(*)                                                   as providers,
        sum((100.0 * share) * (100.0 * share))                     as hhi,
        sum(share) filter (where position <= 1)                    as cr1,
        sum(share) filter (where position <= 3)                    as cr3,
        sum(share) filter (where position <= 5)                    as cr5,
        min(position) filter (where cumulative > 0.5 + 1e-12)      as nakamoto,
        2.0 * sum(ascending * share) / (count(*) * sum(share)) - (count(*) + 1.0) / count(*) as gini,
        -sum(share * ln(share))                                    as entropy,
        max(provider) filter (where position = 1)                  as top_provider
    from ranked
    group by all
),
layers as (   -- the standard layers for every measured snapshot, and any other layer it has
    select m.snapshot_id, l.layer
    from measured as m
    cross join (values ('hosting'), ('dns'), ('cdn'), ('email')) as l(layer)
    union
    select distinct snapshot_id, layer from site_providers
)
select
    l.snapshot_id,
    l.layer,
    coalesce(m.sites, 0)                                           as sites,
    coalesce(ls.attributed, 0)                                     as attributed,
    coalesce(m.sites, 0) - coalesce(ls.attributed, 0)              as unattributed,
    coalesce(ls.critical_sites / m.sites, 0.0)                     as critical,
    coalesce(ls.redundant_sites / m.sites, 0.0)                    as redundant,
    coalesce(c.providers, 0)                                       as providers,
    coalesce(c.hhi, 0.0)                                           as hhi,
    coalesce(c.cr1, 0.0)                                           as cr1,
    coalesce(c.cr3, 0.0)                                           as cr3,
    coalesce(c.cr5, 0.0)                                           as cr5,
    coalesce(c.nakamoto, c.providers, 0)                           as nakamoto,
    coalesce(c.gini, 0.0)                                          as gini,
    coalesce(c.entropy, 0.0)                                       as entropy,
    case when c.providers > 1 then c.entropy / ln(c.providers) else 0.0 end as entropy_normalised,
    c.top_provider
from layers as l
left join measured as m using (snapshot_id)
left join layer_sites as ls using (snapshot_id, layer)
left join concentration as c using (snapshot_id, layer);
