-- The snapshots to backfill (analysis.aggregates.missing): finished (not running: a running
-- crawl's attribution stores its own), with measured sites, and no metric_weights row at all
-- (attributed before migration 0008, ingested from an export without the table, or resumed since:
-- crawler.resume clears them). Oldest first.
select s.snapshot_id
from snapshots as s
where s.status <> 'running'
  and exists (select 1 from site_outcomes as o where o.snapshot_id = s.snapshot_id)
  and not exists (select 1 from metric_weights as m where m.snapshot_id = s.snapshot_id)
order by s.snapshot_id
