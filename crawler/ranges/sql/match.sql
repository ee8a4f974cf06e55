-- Address attribution by published ranges: every address of snapshot $sid -> the most specific
-- published prefix holding it, across all the range-feed versions $feed_ids.
-- Parameters:
--   $sid              the snapshot (its ip_origins: ip, family 4|6, ip_num uhugeint)
--   $feed_ids         integer[]: the range_feeds versions to match against
--   $own_feeds        varchar[]: the catalogue's feeds (a provider's own publication)
--   $generic_feeds, $generic_services varchar[], $generic_ranks integer[]: parallel lists, the
--                     services that label a whole address space (AWS 'AMAZON'), rank 0 the most generic
-- A prefix published by several rows (AWS: once as AMAZON, once per service; the same prefix in
-- the provider's feed and in a third-party copy) keeps one: the provider's own feed first, then a
-- specific service over a generic one (ties alphabetical), then a row with a region.
-- How: the chosen prefixes are cut into non-overlapping segments, each owned by the most specific
-- prefix covering it (found with one equality probe per prefix length present), and every address
-- finds its segment with one ASOF join: a sort-merge whose cost grows with addresses + prefixes,
-- not with their product as a range join's does.
with
generic as (
    select unnest($generic_feeds) as feed, unnest($generic_services) as service,
           unnest($generic_ranks) as service_rank
),
published as (
    select r.feed_id, r.provider, r.prefix, r.family, r.prefix_len, r.start_num, r.end_num,
           r.region, r.service,
           case
               when list_contains($own_feeds, f.feed) then 0
               when f.feed like 'cidr:%' then 2
               else 1
           end as source_rank,
           case when r.service is null then -1 else coalesce(g.service_rank, 1000) end as service_rank
    from ip_ranges r
    join range_feeds f on f.feed_id = r.feed_id
    left join generic g on g.feed = f.feed and g.service = r.service
    where list_contains($feed_ids, r.feed_id)
),
prefixes as materialized (   -- one row per distinct prefix, numbered
    select row_number() over () as pid, *
    from (
        select * from published
        qualify row_number() over (
            partition by family, start_num, prefix_len
            order by source_rank, service_rank desc, region is null, service, region, provider, feed_id
        ) = 1
    )
),
bounds as materialized (     -- where segments begin: a prefix's first address, and the one after its last
    select family, start_num as at from prefixes
    union
    select family, end_num + 1 from prefixes
    where end_num < case when family = 4 then 4294967295::uhugeint
                         else 340282366920938463463374607431768211455::uhugeint end
),
lengths as (
    select distinct family, prefix_len,
           ((case when family = 4 then 32 else 128 end) - prefix_len)::uhugeint as host_bits
    from prefixes
),
probes as (     -- each boundary's network at every prefix length present
    select b.family, b.at, l.prefix_len, ((b.at >> l.host_bits) << l.host_bits) as network
    from bounds b
    join lengths l on l.family = b.family
),
owners as (     -- the most specific prefix holding each boundary
    select q.family, q.at, arg_max(p.pid, p.prefix_len) as pid
    from probes q
    join prefixes p on p.family = q.family and p.prefix_len = q.prefix_len and p.start_num = q.network
    group by q.family, q.at
),
segments as (   -- [at, next boundary) belongs to pid; null pid: a gap between prefixes
    select b.family, b.at, o.pid
    from bounds b
    left join owners o on o.family = b.family and o.at = b.at
),
addresses as (
    select distinct ip, family, ip_num from ip_origins where snapshot_id = $sid
),
hits as (
    select a.ip, s.pid
    from addresses a
    asof join segments s on a.family = s.family and a.ip_num >= s.at
)
select $sid as snapshot_id, h.ip, p.feed_id, p.provider, p.prefix, p.prefix_len, p.region, p.service
from hits h
join prefixes p on p.pid = h.pid
