-- Dependencies of snapshot $sid: the evidence table aggregated to one row per site, layer and
-- provider, keeping the strongest evidence (among equals, the smallest value: deterministic).
select
    snapshot_id, domain, layer, provider,
    arg_min(evidence, (rule, evidence_value)) as evidence,
    arg_min(evidence_value, (rule, evidence_value)) as evidence_value,
    bool_or(private) as private,
    arg_min(service, (rule, evidence_value)) as service,
    arg_min(region, (rule, evidence_value)) as region
from evidence
where snapshot_id = $sid
group by snapshot_id, domain, layer, provider
order by domain, layer, provider
