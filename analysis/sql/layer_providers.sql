-- Per layer and provider: market-share weight, sites depending on it, sites depending on it alone.
-- Parameters: $sid; $level = 'provider' (services: AWS, CloudFront, Route 53 apart) or 'org'
-- (organisations: all of them as Amazon). Uniform weighting: each site weighs 1, split
-- equally over its providers in the layer.
with site_providers as (
    select distinct
        d.domain,
        d.layer,
        case when $level = 'org' then coalesce(p.org, d.provider) else d.provider end as provider
    from dependencies d
    left join providers p on p.snapshot_id = d.snapshot_id and p.provider = d.provider
    where d.snapshot_id = $sid
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
