-- The sums every metric is computed from, as stored when the snapshot was attributed (table
-- metric_weights, written by analysis.aggregates.store from metric_weights.sql): the CTE chain of
-- weights_computed.sql, ending in the same `sums`, read instead of computed. Used only for the
-- snapshots whose metric_weights rows hold every cut asked (stored_snapshots.sql).
--
-- Parameters: as weights_computed.sql.
scope as (   -- one row per (snapshot, cut); the whole list is cut at the largest bigint
    select s.snapshot_id, c.cut
    from (select unnest($sids::integer[]) as snapshot_id) as s
    cross join (
        select distinct coalesce(cut, 9223372036854775807) as cut
        from (select unnest($cuts::bigint[]) as cut)
    ) as c
),
sums as (
    select
        m.snapshot_id, m.level, sc.cut, m.layer, m.provider, m.sites, m.critical_sites, m.share_sites,
        m.popularity, m.share_popularity, m.critical_popularity, m.redundant_popularity
    from metric_weights as m
    join scope as sc on sc.snapshot_id = m.snapshot_id and sc.cut = coalesce(m.cut, 9223372036854775807)
    where list_contains($sids::integer[], m.snapshot_id)
      and list_contains($levels::varchar[], m.level)
      and (m.layer is null or list_contains($layers::varchar[], m.layer))
)
