"""The repository's prefect.yaml describes the same deployments `deployflow deployments apply`
makes for the example stack, with entrypoints that load and parameters the flows accept.

(`prefect deploy --all` itself cannot run against the pinned Prefect 3.8.8 server: its client
sends `limit: null` to /work_pools/{pool}/workers/filter, which this FastAPI rejects with 422.)"""

from __future__ import annotations

import yaml

from deployflow.deployments.specs import FLOWS, deployment_specs
from deployflow.loading import load_stack
from tests.conftest import EXAMPLE, REPO


def test_prefect_yaml_matches_the_stack_deployments(tmp_path) -> None:
    from prefect.flows import load_flow_from_entrypoint

    config = yaml.safe_load((REPO / "prefect.yaml").read_text())
    ctx = load_stack(
        EXAMPLE / "deployflow.yaml", tmp_path, environ={"WOOSOO_DB_PASSWORD": "x-for-tests"}
    )
    specs = {(FLOWS[s.kind][1], s.name): s for s in deployment_specs(ctx)}
    seen = set()
    for dep in config["deployments"]:
        flow = load_flow_from_entrypoint(str(REPO / dep["entrypoint"]))
        asked = {"backup_id": "20261125000000"} if flow.name == "restore" else {}
        flow.validate_parameters({**dep["parameters"], **asked})  # the flow accepts them
        spec = specs[(flow.name, dep["name"])]
        assert dep["work_pool"]["name"] == spec.pool
        assert dep["concurrency_limit"] == {"limit": 1, "collision_strategy": "ENQUEUE"}
        crons = [s["cron"] for s in dep.get("schedules", [])]
        assert crons == ([spec.cron] if spec.cron else [])
        assert set(dep["tags"]) == set(spec.tags)
        seen.add((flow.name, dep["name"]))
    assert seen == set(specs)
