-- One row per snapshot: its list, status and times, sites measured and resolved, and per layer
-- (hosting, dns, cdn, email) the sites attributed, the HHI and the top provider with its market
-- share. Uniform weighting, provider level. Built on v_layer_concentration (views are created
-- in file-name order, so that one exists first).
create or replace view v_snapshot_summary as
with
outcomes as (
    select
        snapshot_id,
        count(*)                                   as sites_measured,
        count(*) filter (where status = 'NOERROR') as resolved
    from site_outcomes
    group by all
),
layers as (
    select
        snapshot_id,
        max(attributed)   filter (where layer = 'hosting') as hosting_attributed,
        max(hhi)          filter (where layer = 'hosting') as hosting_hhi,
        max(top_provider) filter (where layer = 'hosting') as hosting_top,
        max(cr1)          filter (where layer = 'hosting') as hosting_top_share,
        max(attributed)   filter (where layer = 'dns')     as dns_attributed,
        max(hhi)          filter (where layer = 'dns')     as dns_hhi,
        max(top_provider) filter (where layer = 'dns')     as dns_top,
        max(cr1)          filter (where layer = 'dns')     as dns_top_share,
        max(attributed)   filter (where layer = 'cdn')     as cdn_attributed,
        max(hhi)          filter (where layer = 'cdn')     as cdn_hhi,
        max(top_provider) filter (where layer = 'cdn')     as cdn_top,
        max(cr1)          filter (where layer = 'cdn')     as cdn_top_share,
        max(attributed)   filter (where layer = 'email')   as email_attributed,
        max(hhi)          filter (where layer = 'email')   as email_hhi,
        max(top_provider) filter (where layer = 'email')   as email_top,
        max(cr1)          filter (where layer = 'email')   as email_top_share
    from v_layer_concentration
    group by all
)
select
    s.snapshot_id,
    s.list_name,
    s.list_id,
    s.list_date,
    s.top_n,
    s.status,
    s.started_at,
    s.finished_at,
    date_diff('second', s.started_at, s.finished_at)            as duration_s,
    coalesce(o.sites_measured, 0)                               as sites,
    coalesce(o.resolved, 0)                                     as resolved,
    coalesce(o.resolved / nullif(o.sites_measured, 0), 0.0)     as resolved_share,
    l.* exclude (snapshot_id)
from snapshots as s
left join outcomes as o using (snapshot_id)
left join layers as l using (snapshot_id)
order by s.snapshot_id;
