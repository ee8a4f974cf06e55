-- Addresses of one snapshot that no cached RDAP row answers yet and that need naming, with
-- their origin AS. Parameters: $sid (snapshot id), $retryable (statuses that do not count as
-- an answer), $unrouted_only (only addresses no route announces), $skip_asns (ASes that
-- need no RDAP name: a registry provider's, or named by an AS-names file). Filtering here,
-- not in Python, matters at 1M sites: fetching every address into Python took 26 s of a
-- 30 s call, twice per crawl.
select distinct o.ip, o.family, o.ip_num, o.asn
from ip_origins o
where o.snapshot_id = $sid
  and (o.asn is null or (not $unrouted_only and o.asn not in (select unnest($skip_asns::bigint[]))))
  and not exists (
      select 1
      from rdap_networks n
      where n.family = o.family
        and o.ip_num between n.start_num and n.end_num
        and not list_contains($retryable, n.status)
  )
order by o.family, o.ip_num
