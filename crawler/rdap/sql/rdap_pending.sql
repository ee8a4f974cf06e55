-- Addresses of one snapshot that no cached RDAP row answers yet, with their origin AS.
-- Parameters: $sid (snapshot id), $retryable (statuses that do not count as an answer).
select distinct o.ip, o.family, o.ip_num, o.asn
from ip_origins o
where o.snapshot_id = $sid
  and not exists (
      select 1
      from rdap_networks n
      where n.family = o.family
        and o.ip_num between n.start_num and n.end_num
        and not list_contains($retryable, n.status)
  )
order by o.family, o.ip_num
