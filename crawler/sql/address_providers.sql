-- Who each address of snapshot $sid belongs to: the most specific published range (from
-- ip_range_matches, filled by crawler/ranges/match.py), else the origin AS (registry provider,
-- else as<N>), else the RDAP registrant of an unrouted address (org:<name>).
-- Registered table: asn_map(asn integer, provider varchar) from the registry.
with
origins as (
    select ip, family, ip_num, asn from ip_origins where snapshot_id = $sid
),
by_range as (
    select ip, provider, 'published_range' as evidence, prefix as evidence_value, service, region, 0 as rule
    from ip_range_matches
    where snapshot_id = $sid
),
by_asn as (
    select o.ip, coalesce(m.provider, 'as' || o.asn) as provider, 'asn' as evidence,
           cast(o.asn as varchar) as evidence_value, null as service, null as region, 1 as rule
    from origins o
    left join asn_map m on m.asn = o.asn
    where o.asn is not null
),
by_rdap as (
    select o.ip, 'org:' || trim(regexp_replace(lower(r.org), '[^a-z0-9]+', '-', 'g'), '-') as provider,
           'rdap' as evidence, r.handle as evidence_value, null as service, null as region, 2 as rule
    from origins o
    join rdap_networks r on r.status = 'OK' and r.family = o.family
                         and o.ip_num between r.start_num and r.end_num
    where o.asn is null and r.org is not null and r.org <> ''
    qualify row_number() over (partition by o.ip order by r.end_num - r.start_num, r.handle) = 1
),
ranked as (
    select * from by_range
    union all select * from by_asn
    union all select * from by_rdap
)
select $sid as snapshot_id, ip, provider, evidence, evidence_value, service, region
from ranked
qualify row_number() over (partition by ip order by rule, provider) = 1
