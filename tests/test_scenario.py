"""The whole mediated negotiation of the demo, as a test: four delegations, several rounds, an ad
referendum acceptance confirmed later, a walk-out and resumption, a merge whose clashes become
options and are resolved, finalize, sign, witness, endorse, bundle, verify: in force."""

from __future__ import annotations

import json

from parley import scenario as sc
from parley import services as svc
from parley.core import bundle, text
from parley.core.bundle import Verdict
from parley.core.keys import COSIGNATURE_V1, SigningKey
from parley.store import MemoryStore


def _play() -> tuple[sc.Scenario, list[sc.Step]]:
    keys = {c: SigningKey.from_seed(c, c.encode().ljust(32, b"k")) for c in sc.DELEGATIONS}
    witnesses = [
        (name, SigningKey.from_seed(name, name.encode().ljust(32, b"w"), COSIGNATURE_V1))
        for name in ("qa-log-witness", "tr-log-witness")
    ]
    log_key = SigningKey.from_seed("demo.example/log", b"l" * 32)
    clock = sc.ScenarioClock()
    services = svc.Services(MemoryStore(), svc.LogSetup(log_key, witnesses), clock)
    scenario = sc.Scenario(services, keys, clock)
    return scenario, list(sc.steps(scenario, "scenario-test-nonce"))


def test_the_demo_negotiation_comes_into_force_and_verifies() -> None:
    scenario, steps = _play()
    state = scenario.services.state(scenario.negotiation)
    assert state.in_force
    report = bundle.check_bundle(scenario.services.bundle(scenario.negotiation))
    assert report.verdict is Verdict.IN_FORCE, report.problem
    assert any("walks out" in s.what for s in steps)
    assert any("ad referendum" in s.what for s in steps)


def test_the_clashing_returns_became_attributed_options_then_were_resolved() -> None:
    scenario, _ = _play()
    services, nid = scenario.services, scenario.negotiation
    v2 = services.version(nid, scenario.versions["v2"])
    cessation = text.find(v2, "art-cessation.3")
    assert cessation is not None
    groups = [x for x in cessation.body if isinstance(x, text.Options)]
    assert groups
    assert {o.proposer for o in groups[0].options} == {"AF", "PK"}
    words = text.plain(cessation.body)
    assert "10" in words
    assert "30" in words
    water = text.find(v2, "art-water.2")
    assert water is not None
    assert "appreciably" in text.plain(water.body)
    assert text.is_clean(services.version(nid, scenario.versions["v3"]))


def test_caucus_returns_stay_out_of_the_bundle() -> None:
    scenario, _ = _play()
    doc = json.loads(scenario.services.bundle(scenario.negotiation))
    amends = [e for e in doc["events"] if e["envelope"]["type"] == "amend"]
    assert len(amends) == 2
    assert all("body" not in e and e["envelope"]["audience"] != "all" for e in amends)
