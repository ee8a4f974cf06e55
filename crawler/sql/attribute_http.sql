-- Evidence of snapshot $sid from its home pages (table `evidence`): cdn by response headers,
-- ca by certificate issuer, third_party by the hosts the page loads resources from.
-- Reads http_outcomes, http_hops, http_headers, tls_certificates, page_resources,
-- host_answers and address_providers. Registered tables (from the registry, in Python):
--   header_fp(name, value, provider)  a header fingerprint: the name, and a lower-case
--                                     substring of the value (null: presence is enough)
--   issuer_map(issuer_org, provider)  every distinct issuer organisation of the snapshot's
--                                     verified certificates, classified (org:<slug> if unknown)
--   host_map(kind, host, provider, suffix, registrable)   as for attribute.sql
with
final_hops as (   -- the hop whose response the site's page outcome is
    select o.domain, h.hop, h.host
    from http_outcomes o
    join http_hops h on h.snapshot_id = o.snapshot_id and h.domain = o.domain and h.hop = o.hops - 1
    where o.snapshot_id = $sid and o.status = 'OK'
),
cdn_headers as (
    select f.domain, 'cdn' as layer, f.host as unit, fp.provider, 'header' as evidence,
           fp.name || coalesce(': ' || fp.value, '') as evidence_value,   -- the fingerprint, not the
                                                                   -- per-response value (cf-ray ids)
           null as service, null as region, false as private, 1 as rule
    from final_hops f
    join http_headers hd on hd.snapshot_id = $sid and hd.domain = f.domain and hd.hop = f.hop
    join header_fp fp on fp.name = hd.name
                     and (fp.value is null or contains(lower(hd.value), fp.value))
),
ca as (   -- verified leaf certificates of the site's own hosts
    select c.domain, 'ca' as layer, c.host as unit, m.provider, 'cert_issuer' as evidence,
           c.issuer_org as evidence_value, null as service, null as region, false as private, 1 as rule
    from tls_certificates c
    join issuer_map m on m.issuer_org = c.issuer_org
    where c.snapshot_id = $sid and c.verified
      and (c.host = c.domain or ends_with(c.host, '.' || c.domain))
),
third_hosts as (
    select distinct domain, host from page_resources where snapshot_id = $sid and third_party
),
host_cdn as (   -- a resource host behind a CDN: the CDN its CNAME chain names
    select distinct a.host, m.provider, 'resource_cname' as evidence, a.value as evidence_value
    from host_answers a
    join host_map m on m.kind = 'cname' and m.host = a.value and m.provider is not null
    where a.snapshot_id = $sid and a.rtype = 'CNAME' and a.qtype in ('A', 'AAAA')
),
host_addr as (  -- else who its addresses belong to
    select distinct a.host, p.provider, 'resource_' || p.evidence as evidence, p.evidence_value
    from host_answers a
    join address_providers p on p.snapshot_id = $sid and p.ip = a.value
    where a.snapshot_id = $sid and a.rtype in ('A', 'AAAA') and a.qtype = a.rtype
      and a.host not in (select host from host_cdn)
),
third_party as (
    select t.domain, 'third_party' as layer, t.host as unit, p.provider, p.evidence,
           t.host as evidence_value, null as service, null as region, false as private, 1 as rule
    from third_hosts t
    join (select * from host_cdn union all select * from host_addr) p on p.host = t.host
)
select $sid as snapshot_id, *
from (
    select * from cdn_headers
    union all select * from ca
    union all select * from third_party
)
where provider is not null
