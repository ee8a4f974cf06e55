-- Dependencies of snapshot $sid: the evidence table aggregated to one row per site, layer and
-- provider, keeping the strongest evidence (among equals, the smallest value: deterministic).
-- One arg_min over a struct, not one per column, and no ORDER BY: at 1M sites (6.9M evidence
-- rows) that took the statement from 12.4 to 7.8 s. Readers order what they read.
select
    snapshot_id, domain, layer, provider,
    best.evidence, best.evidence_value, private, best.service, best.region
from (
    select snapshot_id, domain, layer, provider,
           arg_min({'evidence': evidence, 'evidence_value': evidence_value, 'service': service,
                    'region': region}, (rule, evidence_value)) as best,
           bool_or(private) as private
    from evidence
    where snapshot_id = $sid
    group by snapshot_id, domain, layer, provider
)
