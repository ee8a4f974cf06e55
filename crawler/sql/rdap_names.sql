-- Names RDAP gives a snapshot's addresses: the registrant of the most specific cached network.
-- Parameters: $sid. Returns (slug, org, asn): slug as used in 'org:<slug>' provider ids.
with named as (
    select o.ip, o.asn, r.org
    from ip_origins o
    join rdap_networks r on r.status = 'OK' and r.family = o.family
                         and o.ip_num between r.start_num and r.end_num
    where o.snapshot_id = $sid and r.org is not null and r.org <> ''
    qualify row_number() over (partition by o.ip order by r.end_num - r.start_num, r.handle) = 1
)
select distinct
    trim(regexp_replace(lower(org), '[^a-z0-9]+', '-', 'g'), '-') as slug,
    org,
    asn
from named
