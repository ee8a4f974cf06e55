-- The sums every metric is computed from, aggregated from the crawl's own rows (list_entries,
-- site_outcomes, dependencies, providers): a CTE chain ending in `sums`, which metric_weights.sql
-- stores at attribution and provider_shares.sql / layer_metrics.sql read when a snapshot has no
-- stored rows (weights_stored.sql reads the same `sums` from metric_weights).
--
-- `sums` has one row per snapshot, level and cut for
--   layer and provider null   the cut's measured sites
--   provider null             the layer's attributed sites (at least one provider there)
--   both set                  the sites that use the provider in the layer
-- and, for those sites: how many (`sites`: their weight when every site weighs 1), how many have
-- one provider alone in the layer (`critical_sites`), their popularity weight (1/rank, 1/bucket
-- on bucketed lists: `popularity`) and that of those with one provider alone and with several
-- (`critical_popularity`, `redundant_popularity`); per provider also each site's weight divided
-- by its number of providers in the layer (`share_sites`, `share_popularity`).
--
-- Each site is counted once, in its class: the smallest cut that holds it. A cut's sums are those
-- of its class and of every smaller one (cuts are cumulative), so every site row is aggregated
-- once however many cuts are asked.
--
-- Parameters: $sids integer[], $cuts bigint[] (null: the whole list), $layers varchar[],
-- $levels varchar[] ('provider', 'org').
scope as (   -- one row per (snapshot, cut); the whole list is cut at the largest bigint, so
             -- that every join on cut is a plain comparison (null is put back at the end)
    select s.snapshot_id, c.cut
    from (select unnest($sids::integer[]) as snapshot_id) as s
    cross join (
        select distinct coalesce(cut, 9223372036854775807) as cut
        from (select unnest($cuts::bigint[]) as cut)
    ) as c
),
positions as (   -- each listed site's popularity position: its best rank and bucket
    select snapshot_id, domain, min(rank) as rank, min(bucket) as bucket
    from list_entries
    where list_contains($sids::integer[], snapshot_id)
    group by all
),
measured as (   -- every measured site: a number for it, its popularity weight, its position
    select
        o.snapshot_id,
        o.domain,
        o.rowid                                                                           as site,
        coalesce(1.0 / nullif(p.bucket, 0)::double, 1.0 / nullif(p.rank, 0)::double, 0.0) as popularity,
        coalesce(p.bucket, p.rank, 9223372036854775807)                                   as position
    from site_outcomes as o
    left join positions as p on p.snapshot_id = o.snapshot_id and p.domain = o.domain
    where list_contains($sids::integer[], o.snapshot_id)
),
classes as (   -- each cut of each snapshot with the cut below it (none: the smallest bigint but
               -- one): a class holds the positions past the cut below and up to its own
    select
        snapshot_id,
        coalesce(lag(cut) over (partition by snapshot_id order by cut), -9223372036854775807) as above,
        cut
    from scope
),
sites as (   -- the measured sites with their class: the smallest cut that holds them (a site in
             -- no cut asked is left out)
    select m.snapshot_id, m.domain, m.site, m.popularity, c.cut as class
    from measured as m
    join classes as c on c.snapshot_id = m.snapshot_id and m.position > c.above and m.position <= c.cut
),
levels as (   -- the levels asked, numbered: integer keys keep the per-site steps fast
    select unnest(range(1, len($levels::varchar[]) + 1))::utinyint as level_no
),
site_providers as (   -- each site's distinct providers per layer (org level: organisations);
                      -- level and layer by their position in $levels and $layers
    select distinct
        s.site,
        lv.level_no,
        list_position($layers::varchar[], d.layer)::utinyint as layer_no,
        case when list_extract($levels::varchar[], lv.level_no) = 'org' then coalesce(pr.org, d.provider)
             else d.provider end                              as provider
    from dependencies as d
    join sites as s on s.snapshot_id = d.snapshot_id and s.domain = d.domain
    cross join levels as lv
    left join providers as pr on pr.snapshot_id = d.snapshot_id and pr.provider = d.provider
    where list_contains($sids::integer[], d.snapshot_id) and list_contains($layers::varchar[], d.layer)
),
counted as (   -- how many providers each site has in the layer
    select *, count(*) over (partition by site, level_no, layer_no) as n_providers
    from site_providers
),
attributed_sites as (   -- one row per site, layer and provider, with the site's class and weight
    select
        s.snapshot_id,
        s.class,
        s.popularity,
        list_extract($levels::varchar[], c.level_no) as level,
        list_extract($layers::varchar[], c.layer_no) as layer,
        c.provider,
        c.n_providers
    from counted as c
    join sites as s using (site)
),
by_providers as (   -- per class, layer and number of providers n: the rows and their weight; a site
                    -- with n providers has n rows, so the layer's sites are rows / n and weigh
                    -- the rows' weight / n
    select snapshot_id, level, class, layer, n_providers, count(*) as rows, sum(popularity) as popularity
    from attributed_sites
    group by all
),
class_sites as (   -- the measured sites of each class
    select snapshot_id, class, count(*) as sites, sum(popularity) as popularity
    from sites
    group by all
),
by_class as (   -- the sums of each class: each layer's attributed sites, each provider's sites
    select
        snapshot_id, level, class, layer, null::varchar as provider,
        sum(rows // n_providers)::bigint                                       as sites,
        coalesce(sum(rows) filter (where n_providers = 1), 0)::bigint          as critical_sites,
        sum(popularity / n_providers)                                          as popularity,
        null::double                                                           as share_sites,
        null::double                                                           as share_popularity,
        coalesce(sum(popularity) filter (where n_providers = 1), 0.0)          as critical_popularity,
        coalesce(sum(popularity / n_providers) filter (where n_providers > 1), 0.0)
                                                                               as redundant_popularity
    from by_providers
    group by all
    union all
    select
        snapshot_id, level, class, layer, provider,
        count(*),
        count(*) filter (where n_providers = 1),
        sum(popularity),
        sum(1.0 / n_providers),
        sum(popularity / n_providers),
        coalesce(sum(popularity) filter (where n_providers = 1), 0.0),
        coalesce(sum(popularity) filter (where n_providers > 1), 0.0)
    from attributed_sites
    group by all
),
sums as (   -- the sums of each cut: those of its class and of every smaller one
    select   -- the cut's measured sites (layer and provider null): a row for every cut, empty or not
        sc.snapshot_id, lv.level, sc.cut, null::varchar as layer, null::varchar as provider,
        coalesce(sum(cs.sites), 0)::bigint   as sites,
        null::bigint                         as critical_sites,
        coalesce(sum(cs.popularity), 0.0)    as popularity,
        null::double                         as share_sites,
        null::double                         as share_popularity,
        null::double                         as critical_popularity,
        null::double                         as redundant_popularity
    from scope as sc
    cross join (select unnest($levels::varchar[]) as level) as lv
    left join class_sites as cs on cs.snapshot_id = sc.snapshot_id and cs.class <= sc.cut
    group by sc.snapshot_id, lv.level, sc.cut
    union all
    select
        c.snapshot_id, c.level, sc.cut, c.layer, c.provider,
        sum(c.sites)::bigint,
        sum(c.critical_sites)::bigint,
        sum(c.popularity),
        sum(c.share_sites),
        sum(c.share_popularity),
        sum(c.critical_popularity),
        sum(c.redundant_popularity)
    from by_class as c
    join scope as sc on sc.snapshot_id = c.snapshot_id and c.class <= sc.cut
    group by c.snapshot_id, c.level, sc.cut, c.layer, c.provider
)
