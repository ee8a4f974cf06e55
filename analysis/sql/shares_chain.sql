-- The CTE chain shared by provider_shares.sql and layer_metrics.sql (included where they say
-- `-- @include shares_chain.sql`), after the `sums` of weights_stored.sql or
-- weights_computed.sql: the weights under each weighting asked, the cut totals, the layer
-- weights, and each provider's shares.
weights as (   -- the sums as weights: uniform (every site weighs 1: counts) or popularity
    select
        s.snapshot_id, s.level, w.weighting, s.cut, s.layer, s.provider, s.sites, s.critical_sites,
        case when w.weighting = 'uniform' then s.sites::double else s.popularity end          as weight,
        case when w.weighting = 'uniform' then s.share_sites else s.share_popularity end      as share_weight,
        case when w.weighting = 'uniform' then s.critical_sites::double else s.critical_popularity end
                                                                                              as critical_weight,
        case when w.weighting = 'uniform' then (s.sites - s.critical_sites)::double else s.redundant_popularity end
                                                                                              as redundant_weight
    from sums as s
    cross join (select unnest($weights::varchar[]) as weighting) as w
),
totals as (   -- all measured sites of each cut: the denominator of dependence, critical, redundant
    select snapshot_id, level, weighting, cut, sites, weight
    from weights
    where layer is null
),
layer_weights as (   -- per layer: attributed sites, those with one provider and those with more
    select
        snapshot_id, level, weighting, cut, layer,
        sites            as attributed,
        weight           as attributed_weight,
        critical_sites,
        critical_weight,
        redundant_weight
    from weights
    where layer is not null and provider is null
),
provider_shares as (   -- each provider's weights as shares
    select
        pw.snapshot_id, pw.level, pw.weighting, pw.cut, pw.layer, pw.provider,
        pw.sites,
        pw.critical_sites,
        pw.sites - pw.critical_sites                                       as redundant_sites,
        pw.share_weight,
        coalesce(pw.share_weight / nullif(lw.attributed_weight, 0), 0.0)   as share,
        coalesce(pw.weight / nullif(t.weight, 0), 0.0)                     as dependence,
        coalesce(pw.critical_weight / nullif(t.weight, 0), 0.0)            as critical,
        coalesce(pw.redundant_weight / nullif(t.weight, 0), 0.0)           as redundant
    from weights as pw
    join layer_weights as lw using (snapshot_id, level, weighting, cut, layer)
    join totals as t using (snapshot_id, level, weighting, cut)
    where pw.provider is not null
)
