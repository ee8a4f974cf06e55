-- Per layer and provider: market-share weight, sites depending on it, sites depending on it alone.
-- Parameters: $sid. Uniform weighting (each site weighs 1, split equally over its providers).
with site_providers as (
    select distinct domain, layer, provider
    from dependencies
    where snapshot_id = $sid
),
counted as (
    select *, count(*) over (partition by domain, layer) as n_providers
    from site_providers
)
select
    layer,
    provider,
    sum(1.0 / n_providers)                        as share_weight,
    count(*)                                      as sites,
    count(*) filter (where n_providers = 1)       as critical_sites
from counted
group by layer, provider
order by layer, share_weight desc, provider
