-- Distinct host names a snapshot's attribution has to classify, by kind.
-- Parameters: $sid.
select distinct 'cname' as kind, value as host
from dns_answers
where snapshot_id = $sid and rtype = 'CNAME' and qtype in ('A', 'AAAA')
union
select distinct 'ns' as kind, value as host
from dns_answers
where snapshot_id = $sid and rtype = 'NS' and qtype = 'NS'
union
select distinct 'mx' as kind, lower(trim(trailing '.' from split_part(value, ' ', 2))) as host
from dns_answers
where snapshot_id = $sid and rtype = 'MX' and qtype = 'MX'
union
select distinct 'cname' as kind, value as host
from host_answers
where snapshot_id = $sid and rtype = 'CNAME' and qtype in ('A', 'AAAA')
