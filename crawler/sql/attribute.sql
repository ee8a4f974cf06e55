-- Evidence of snapshot $sid: one row per site, layer, unit and provider (table `evidence`).
-- Reads dns_answers and address_providers (filled first by address_providers.sql).
-- Registered table: host_map(kind, host, provider, suffix, registrable) — every distinct CNAME
-- target, NS host and MX host, classified by the registry's suffixes in Python.
-- Rule order within a layer follows DESIGN.md: suffix evidence, then the site's own
-- infrastructure, then who the addresses belong to (published range, origin AS, RDAP), then
-- the host's registrable domain.
with
answers as (
    select domain, qname, qtype, rtype, value
    from dns_answers
    where snapshot_id = $sid and rtype is not null
),
addr as (
    select ip, provider, evidence, evidence_value, service, region
    from address_providers
    where snapshot_id = $sid
),
site_ips as (   -- addresses the apex and www resolve to (after any CNAME chain)
    select distinct domain, value as ip
    from answers
    where qtype in ('A', 'AAAA') and rtype in ('A', 'AAAA')
      and (qname = domain or qname = 'www.' || domain)
),
hosting as (
    select s.domain, 'hosting' as layer, s.ip as unit, a.provider, a.evidence, a.evidence_value,
           a.service, a.region, false as private,
           case a.evidence when 'published_range' then 0 when 'asn' then 3 else 4 end as rule
    from site_ips s
    join addr a using (ip)
),
cdn as (
    select distinct a.domain, 'cdn' as layer, a.value as unit, h.provider, 'cname_suffix' as evidence,
           a.value as evidence_value, null as service, null as region, false as private, 1 as rule
    from answers a
    join host_map h on h.kind = 'cname' and h.host = a.value
    where a.qtype in ('A', 'AAAA') and a.rtype = 'CNAME' and h.provider is not null
      and (a.qname = a.domain or a.qname = 'www.' || a.domain)
),
ns_hosts as (
    select distinct domain, value as host
    from answers
    where qtype = 'NS' and rtype = 'NS' and qname = domain
),
host_ips as (   -- name-server and mail-exchanger addresses, asked once per snapshot
    select distinct qname as host, value as ip
    from answers
    where qtype in ('A', 'AAAA') and rtype in ('A', 'AAAA')
),
dns as (
    select n.domain, 'dns' as layer, n.host as unit,
           case
               when h.provider is not null then h.provider
               when n.host = n.domain or ends_with(n.host, '.' || n.domain) then n.domain
               when a.provider is not null then a.provider
               else h.registrable
           end as provider,
           case
               when h.provider is not null then 'ns_suffix'
               when n.host = n.domain or ends_with(n.host, '.' || n.domain) then 'self'
               when a.provider is not null then 'ns_' || a.evidence
               else 'ns_domain'
           end as evidence,
           case
               when h.provider is not null or n.host = n.domain or ends_with(n.host, '.' || n.domain)
                    or a.provider is null then n.host
               else a.evidence_value
           end as evidence_value,
           null as service, null as region,
           h.provider is null and (n.host = n.domain or ends_with(n.host, '.' || n.domain)) as private,
           2 as rule
    from ns_hosts n
    left join host_map h on h.kind = 'ns' and h.host = n.host
    left join host_ips i on i.host = n.host and h.provider is null
    left join addr a on a.ip = i.ip
),
mx_hosts as (
    select distinct domain, lower(trim(trailing '.' from split_part(value, ' ', 2))) as host
    from answers
    where qtype = 'MX' and rtype = 'MX' and qname = domain
),
email as (
    select x.domain, 'email' as layer, x.host as unit,
           case
               when h.provider is not null then h.provider
               when x.host = x.domain or ends_with(x.host, '.' || x.domain) then x.domain
               when a.provider is not null then a.provider
               else h.registrable
           end as provider,
           case
               when h.provider is not null then 'mx_suffix'
               when x.host = x.domain or ends_with(x.host, '.' || x.domain) then 'self'
               when a.provider is not null then 'mx_' || a.evidence
               else 'mx_domain'
           end as evidence,
           case
               when h.provider is not null or x.host = x.domain or ends_with(x.host, '.' || x.domain)
                    or a.provider is null then x.host
               else a.evidence_value
           end as evidence_value,
           null as service, null as region,
           h.provider is null and (x.host = x.domain or ends_with(x.host, '.' || x.domain)) as private,
           2 as rule
    from mx_hosts x
    left join host_map h on h.kind = 'mx' and h.host = x.host
    left join host_ips i on i.host = x.host and h.provider is null
    left join addr a on a.ip = i.ip
    where x.host <> '' and x.host <> '.'   -- RFC 7505 null MX: the domain accepts no mail
)
select $sid as snapshot_id, *
from (
    select * from hosting
    union all select * from cdn
    union all select * from dns
    union all select * from email
)
where provider is not null
