-- Attribution of one snapshot: observations -> dependencies.
-- Parameters: $sid (snapshot id). Registered tables (built in Python from the registry):
--   asn_map(asn integer, provider varchar)
--   host_map(kind varchar, host varchar, provider varchar, suffix varchar, registrable varchar)
--     kind: cname | ns | mx; provider null when no registry suffix matched.
-- Rule order within a layer follows DESIGN.md: suffix evidence, then the site's own
-- infrastructure, then the address's origin AS, then RDAP (unrouted addresses: the network's
-- registrant, as 'org:<name>'), then the host's registrable domain.
with
answers as (
    select domain, qname, qtype, rtype, value
    from dns_answers
    where snapshot_id = $sid and rtype is not null
),
site_ips as (   -- addresses the apex and www resolve to (after any CNAME chain)
    select distinct domain, value as ip
    from answers
    where qtype in ('A', 'AAAA') and rtype in ('A', 'AAAA')
      and (qname = domain or qname = 'www.' || domain)
),
ip_asn as (
    select ip, asn from ip_origins where snapshot_id = $sid and asn is not null
),
hosting as (
    select s.domain, 'hosting' as layer,
           coalesce(m.provider, 'as' || a.asn) as provider,
           'asn' as evidence, cast(a.asn as varchar) as evidence_value, 3 as rule
    from site_ips s
    join ip_asn a using (ip)
    left join asn_map m on m.asn = a.asn
),
rdap_hosting as (   -- unrouted addresses: the owner of the most specific RDAP network (cache)
    select s.domain, 'hosting' as layer,
           'org:' || trim(regexp_replace(lower(r.org), '[^a-z0-9]+', '-', 'g'), '-') as provider,
           'rdap' as evidence, r.handle as evidence_value, 4 as rule
    from site_ips s
    join ip_origins o on o.snapshot_id = $sid and o.ip = s.ip and o.asn is null
    join rdap_networks r on r.status = 'OK' and r.family = o.family
                         and o.ip_num between r.start_num and r.end_num
    where r.org is not null and r.org <> ''
    qualify row_number() over (partition by s.domain, s.ip order by r.end_num - r.start_num, r.handle) = 1
),
cdn as (
    select a.domain, 'cdn' as layer, h.provider, 'cname_suffix' as evidence,
           a.value as evidence_value, 1 as rule
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
ns_ips as (     -- name-server addresses, asked once per snapshot by whichever site came first
    select distinct qname as host, value as ip
    from answers
    where qtype in ('A', 'AAAA') and rtype in ('A', 'AAAA')
      and qname in (select host from ns_hosts)
),
dns as (
    select n.domain, 'dns' as layer,
           case
               when h.provider is not null then h.provider
               when n.host = n.domain or ends_with(n.host, '.' || n.domain) then n.domain
               when a.asn is not null then coalesce(m.provider, 'as' || a.asn)
               else h.registrable
           end as provider,
           case
               when h.provider is not null then 'ns_suffix'
               when n.host = n.domain or ends_with(n.host, '.' || n.domain) then 'self'
               when a.asn is not null then 'ns_asn'
               else 'ns_domain'
           end as evidence,
           case when a.asn is not null and h.provider is null
                     and not (n.host = n.domain or ends_with(n.host, '.' || n.domain))
                then cast(a.asn as varchar) else n.host end as evidence_value,
           2 as rule
    from ns_hosts n
    left join host_map h on h.kind = 'ns' and h.host = n.host
    left join ns_ips i on i.host = n.host and h.provider is null
    left join ip_asn a on a.ip = i.ip
    left join asn_map m on m.asn = a.asn
),
mx_hosts as (
    select distinct domain, lower(trim(trailing '.' from split_part(value, ' ', 2))) as host
    from answers
    where qtype = 'MX' and rtype = 'MX' and qname = domain
),
email as (
    select x.domain, 'email' as layer,
           case
               when h.provider is not null then h.provider
               when x.host = x.domain or ends_with(x.host, '.' || x.domain) then x.domain
               else h.registrable
           end as provider,
           case
               when h.provider is not null then 'mx_suffix'
               when x.host = x.domain or ends_with(x.host, '.' || x.domain) then 'self'
               else 'mx_domain'
           end as evidence,
           x.host as evidence_value, 2 as rule
    from mx_hosts x
    left join host_map h on h.kind = 'mx' and h.host = x.host
    where x.host <> ''   -- RFC 7505 null MX: the domain accepts no mail
),
evidence as (
    select * from hosting
    union all select * from rdap_hosting
    union all select * from cdn
    union all select * from dns
    union all select * from email
)
select
    $sid as snapshot_id, domain, layer, provider,
    -- the strongest evidence; among equals, the smallest value (deterministic for re-runs)
    arg_min(evidence, (rule, evidence_value)) as evidence,
    arg_min(evidence_value, (rule, evidence_value)) as evidence_value,
    bool_or(evidence = 'self') as private
from evidence
where provider is not null
group by domain, layer, provider
order by domain, layer, provider
