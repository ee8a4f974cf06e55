-- Between two snapshots, per layer: how the sites' provider sets changed, counted by
-- (kind, providers in A, providers in B). A site's providers are the sorted list of its distinct
-- providers in the layer (org level: organisations). Kinds:
--   unchanged     listed in both, same providers (attributed)
--   moved         listed in both, attributed in both, different providers
--   gained        listed in both, unattributed in A, attributed in B
--   lost          listed in both, attributed in A, unattributed in B
--   unattributed  listed in both, unattributed in both
--   appeared      measured in B only (its providers in B, if any)
--   disappeared   measured in A only (its providers in A, if any)
--
-- Parameters: $a, $b (snapshot ids), $layers (varchar[]), $level ('provider' or 'org').
with
site_providers as (
    select distinct
        d.snapshot_id,
        d.layer,
        d.domain,
        case when $level = 'org' then coalesce(pr.org, d.provider) else d.provider end as provider
    from dependencies as d
    left join providers as pr on pr.snapshot_id = d.snapshot_id and pr.provider = d.provider
    where d.snapshot_id in ($a, $b) and list_contains($layers::varchar[], d.layer)
),
provider_sets as (   -- one row per site and layer: its providers, sorted
    select snapshot_id, layer, domain, list(provider order by provider) as providers
    from site_providers
    group by all
),
measured as (   -- every site measured in A or in B, and where
    select
        coalesce(a.domain, b.domain) as domain,
        a.domain is not null         as in_a,
        b.domain is not null         as in_b
    from (select domain from site_outcomes where snapshot_id = $a) as a
    full outer join (select domain from site_outcomes where snapshot_id = $b) as b on a.domain = b.domain
),
sides as (   -- per layer: each site's providers on both sides
    select l.layer, m.in_a, m.in_b, pa.providers as providers_a, pb.providers as providers_b
    from measured as m
    cross join (select unnest($layers::varchar[]) as layer) as l
    left join provider_sets as pa on pa.snapshot_id = $a and pa.layer = l.layer and pa.domain = m.domain
    left join provider_sets as pb on pb.snapshot_id = $b and pb.layer = l.layer and pb.domain = m.domain
)
select
    layer,
    case
        when not in_a then 'appeared'
        when not in_b then 'disappeared'
        when providers_a is null and providers_b is null then 'unattributed'
        when providers_a is null then 'gained'
        when providers_b is null then 'lost'
        when providers_a = providers_b then 'unchanged'
        else 'moved'
    end                                           as kind,
    providers_a,
    providers_b,
    count(*)                                      as sites
from sides
group by all
order by layer, sites desc, kind, providers_a, providers_b
