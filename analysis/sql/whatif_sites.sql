-- What-if outage on snapshot $sid: which sites go down or are degraded when providers fail.
-- Parameters:
--   $failed      varchar[]  provider ids that fail (their services — providers whose parent is
--                           one of them — fail too)
--   $region      varchar    only what the providers serve from this region fails (null: all)
--   $service     varchar    only this service of theirs fails (null: all)
--   $transitive  boolean    a name server fails too when every address it has belongs to what
--                           failed (a DNS provider hosted in the failed provider fails with it)
-- Units (evidence.unit) are what a site was seen to use: its addresses (hosting), name servers
-- (dns), CNAME targets (cdn), mail exchangers (email). A unit fails when every provider it has
-- failed; a layer is down when all its units failed. A site is *down* when dns, hosting or cdn
-- is down; *degraded* when any unit of any layer (email included) failed and it is not down.
with
failed_providers as (
    select unnest($failed) as provider
    union
    select provider from providers
    where snapshot_id = $sid and parent is not null and list_contains($failed, parent)
),
addr_failed as (    -- addresses that fail
    select ip
    from address_providers
    where snapshot_id = $sid
      and provider in (select provider from failed_providers)
      and ($region is null or region = $region)
      and ($service is null or service = $service)
),
host_down as (      -- transitive: name servers all of whose addresses fail
    select qname as host
    from dns_answers
    where snapshot_id = $sid and qtype in ('A', 'AAAA') and rtype in ('A', 'AAAA')
    group by qname
    having bool_and(value in (select ip from addr_failed))
),
rows as (
    select e.domain, e.layer, e.unit,
           case
               when e.layer = 'hosting' then e.unit in (select ip from addr_failed)
               else e.provider in (select provider from failed_providers)
                    and ($region is null or e.region = $region)
                    and ($service is null or e.service = $service)
                    or ($transitive and e.layer = 'dns' and e.unit in (select host from host_down))
           end as failed
    from evidence e
    where e.snapshot_id = $sid
),
units as (
    select domain, layer, unit, bool_and(failed) as failed
    from rows
    group by domain, layer, unit
),
layers as (
    select domain, layer, count(*) as units, count(*) filter (where failed) as failed_units
    from units
    group by domain, layer
),
sites as (
    select
        domain,
        bool_or(failed_units = units and layer in ('dns', 'hosting', 'cdn')) as down,
        bool_or(failed_units > 0) as touched,
        string_agg(case when failed_units = units then layer end, ',' order by layer) as down_layers,
        string_agg(case when failed_units > 0 and failed_units < units then layer end, ',' order by layer)
            as degraded_layers
    from layers
    group by domain
)
select
    l.rank,
    l.domain,
    l.bucket,
    case when s.down then 'down' when s.touched then 'degraded' else 'up' end as status,
    s.down_layers,
    s.degraded_layers
from list_entries l
left join sites s using (domain)
where l.snapshot_id = $sid
order by l.rank
