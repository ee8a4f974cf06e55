-- The cached RDAP row for each address of one snapshot that a row covers: a network (OK)
-- first, then a final failure, then a transient one; the narrowest range; the newest.
-- Parameters: $sid (snapshot id), $retryable (transient statuses).
with
addresses as (
    select distinct ip, family, ip_num
    from ip_origins
    where snapshot_id = $sid
),
covering as (
    select
        a.ip, a.family, a.ip_num,
        n.rir, n.handle, n.cidr, n.name, n.org, n.country, n.status, n.fetched_at,
        row_number() over (
            partition by a.ip
            order by
                case when n.status = 'OK' then 0 when list_contains($retryable, n.status) then 2 else 1 end,
                n.end_num - n.start_num,
                n.fetched_at desc
        ) as pick
    from addresses a
    join rdap_networks n
      on n.family = a.family and a.ip_num between n.start_num and n.end_num
)
select ip, rir, handle, cidr, name, org, country, status, fetched_at
from covering
where pick = 1
order by family, ip_num
