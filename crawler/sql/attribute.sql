-- Evidence of snapshot $sid: one row per site, layer, unit and provider (table `evidence`).
-- Reads dns_answers and address_providers (filled first by address_providers.sql).
-- Registered table: host_map(kind, host, provider, suffix, registrable) — every distinct CNAME
-- target, NS host and MX host, classified by the registry's suffixes in Python.
-- Rule order within a layer follows DESIGN.md: suffix evidence, then the site's own
-- infrastructure, then who the addresses belong to (published range, origin AS, RDAP), then
-- the host's registrable domain.
with
answers as not materialized (   -- each reader scans with its own filters: materialised, this CTE
                                --   alone took 7 of 22 s at 1M sites (9.8M rows, spilled)
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
named_hosts as (   -- the name servers (dns) and mail exchangers (email) each site names
    select distinct domain, 'dns' as layer, 'ns' as kind, value as host
    from answers
    where qtype = 'NS' and rtype = 'NS' and qname = domain
    union all   -- the layers differ: no row is in both
    select distinct domain, 'email' as layer, 'mx' as kind,
           lower(trim(trailing '.' from split_part(value, ' ', 2))) as host
    from answers
    where qtype = 'MX' and rtype = 'MX' and qname = domain
),
host_ips as (   -- name-server and mail-exchanger addresses, asked once per snapshot
    select distinct qname as host, value as ip
    from answers
    where qtype in ('A', 'AAAA') and rtype in ('A', 'AAAA')
),
dns_email as (  -- one rule set for both: suffix, own domain, the addresses' owners, the domain
    select n.domain, n.layer, n.host as unit,
           case
               when h.provider is not null then h.provider
               when own then n.domain
               when a.provider is not null then a.provider
               else h.registrable
           end as provider,
           case
               when h.provider is not null then n.kind || '_suffix'
               when own then 'self'
               when a.provider is not null then n.kind || '_' || a.evidence
               else n.kind || '_domain'
           end as evidence,
           case
               when h.provider is not null or own or a.provider is null then n.host
               else a.evidence_value
           end as evidence_value,
           null as service, null as region,
           h.provider is null and own as private,
           2 as rule
    from (select *, host = domain or ends_with(host, '.' || domain) as own from named_hosts) n
    left join host_map h on h.kind = n.kind and h.host = n.host
    left join host_ips i on i.host = n.host and h.provider is null and not n.own
    left join addr a on a.ip = i.ip
    where n.host <> '' and n.host <> '.'   -- RFC 7505 null MX: the domain accepts no mail
)
select $sid as snapshot_id, *
from (
    select * from hosting
    union all select * from cdn
    union all select * from dns_email
)
where provider is not null
