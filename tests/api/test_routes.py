"""The resources, end to end over the app: a whole negotiation, its texts, bundle and log."""

from __future__ import annotations

import base64
import json
import re
import typing
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from parley.api.app import create_app
from parley.api.schemas import ReportOut
from parley.core import bundle, log, merkle, moves, redline, redline_render, textformat, tiles
from parley.core import text as text_model
from parley.core.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from parley.core.event import EventType, event_from_json
from parley.core.keys import COSIGNATURE_V1, SigningKey
from parley.core.note import parse_note
from parley.core.tlogproof import verify_proof
from parley.core.witness import Cosigned, MemoryWitnessState, Witness, add_checkpoint
from tests.api.conftest import Api, TestClient, make_services, make_settings
from tests.negotiation import LOG_KEY, clean_text, make_charter

V1 = clean_text("The Parties shall refrain from cross-border attacks.")
V2 = clean_text("The Parties shall refrain from all cross-border attacks and incursions.")


def _conclude(api: Api) -> str:
    api.open()
    v1, v2 = text_model.version_hash(V1), text_model.version_hash(V2)
    api.play("QA", EventType.PROPOSE, moves.propose(V1))
    api.play("QA", EventType.PROPOSE, moves.propose(V2, (v1,)))
    api.play("QA", EventType.SEND, moves.send(v2, ["AF", "PK"]))
    for party in ("PK", "AF"):
        api.play(party, EventType.ACCEPT, moves.accept(v2))
    api.play("TR", EventType.FINALIZE, moves.finalize(V2))
    signs = [api.play(p, EventType.SIGN, moves.sign(v2)).hash for p in ("PK", "AF")]
    api.play("QA", EventType.WITNESS, moves.witness(signs[0]))
    api.play("TR", EventType.WITNESS, moves.witness(signs[1]))
    for guarantor in ("QA", "TR"):
        api.play(guarantor, EventType.ENDORSE, moves.endorse(v2, signs))
    return api.nid


def test_route_annotations_resolve() -> None:
    """FastAPI reads the (postponed) annotations: every one must resolve at module level."""
    app = create_app(make_settings(Path("/nonexistent")), services=make_services())
    for route in app.routes:
        if isinstance(route, APIRoute):
            typing.get_type_hints(route.endpoint, include_extras=True)
    document = app.openapi()
    assert "/api/negotiations/{negotiation}/events" in document["paths"]
    refs = set(re.findall(r"#/components/schemas/(\w+)", json.dumps(document)))
    assert refs <= set(document["components"]["schemas"]), "a $ref leads nowhere"


def test_a_whole_negotiation_through_the_api(api: Api) -> None:
    nid = _conclude(api)
    pk = api.party("PK")
    listed = pk.get("/api/negotiations").json()["negotiations"]
    assert [(n["id"], n["codes"], n["phase"]) for n in listed] == [(nid, ["PK"], "in_force")]
    state = pk.get(f"/api/negotiations/{nid}").json()
    assert state["phase"] == "in_force" and state["events"] == api.s.seq
    assert state["final"] == text_model.version_hash(V2)
    events = pk.get(f"/api/negotiations/{nid}/events").json()["events"]
    assert [e["envelope"]["seq"] for e in events] == list(range(api.s.seq))
    later = pk.get(f"/api/negotiations/{nid}/events", params={"since": 10, "limit": 2}).json()
    assert [e["envelope"]["seq"] for e in later["events"]] == [10, 11]


def test_versions_in_json_and_text(api: Api) -> None:
    nid = _conclude(api)
    v2 = text_model.version_hash(V2)
    af = api.party("AF")
    found = af.get(f"/api/negotiations/{nid}/versions/{v2[:8]}").json()
    assert found["version"] == v2
    assert text_model.from_json(found["text"]) == V2
    as_text = af.get(f"/api/negotiations/{nid}/versions/{v2}", params={"format": "text"})
    assert as_text.headers["content-type"].startswith("text/plain")
    assert as_text.text == textformat.render(V2)
    assert af.get(f"/api/negotiations/{nid}/versions/ffffffff").status_code == 404
    assert af.get(f"/api/negotiations/{nid}/versions/xyz!").status_code == 422


@pytest.mark.parametrize("fmt", ["json", "html", "markdown"])
def test_redlines_in_every_format(api: Api, fmt: str) -> None:
    nid = _conclude(api)
    old, new = text_model.version_hash(V1), text_model.version_hash(V2)
    answer = api.party("PK").get(
        f"/api/negotiations/{nid}/redline", params={"old": old[:6], "new": new, "format": fmt}
    )
    assert answer.status_code == 200
    assert answer.headers["x-content-type-options"] == "nosniff"  # never sniffed as HTML
    expected = redline.compare(V1, V2)
    if fmt == "json":
        assert answer.json() == redline_render.to_json(expected)
    elif fmt == "html":
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.text == redline_render.to_html(expected)
        assert "script-src" not in answer.headers["content-security-policy"]  # none may run
        assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    else:
        assert answer.text == redline_render.to_markdown(expected)


def test_the_bundle_verifies_in_force_and_so_does_the_verify_route(api: Api) -> None:
    nid = _conclude(api)
    data = api.party("TR").get(f"/api/negotiations/{nid}/bundle").content
    report = bundle.check_bundle(data)
    assert report.verdict is bundle.Verdict.IN_FORCE, report.problem
    checked = api.client.post(
        "/api/verify", content=data, headers={"content-type": "application/octet-stream"}
    )
    assert checked.json() == report.to_json()
    assert checked.json()["acts"] and checked.json()["checkpoint"]["cosignatures"]
    ReportOut.model_validate(checked.json())  # the document matches its published schema
    junk = api.client.post("/api/verify", content=b"\xff not a bundle")
    assert junk.status_code == 200 and junk.json()["verdict"] == "invalid"
    ReportOut.model_validate(junk.json())
    huge = data.replace(b'"seq": 1,', b'"seq": ' + b"9" * 5000 + b",", 1)
    answer = api.client.post("/api/verify", content=huge)  # a traceback and a 500, once
    assert answer.status_code == 200
    assert answer.json()["problem"] == (
        "malformed or altered: the bundle holds a number too long to read"
    )


def test_the_log_checkpoint_tiles_and_proofs(api: Api) -> None:
    nid = _conclude(api)
    events = api.party("PK").get(f"/api/negotiations/{nid}/events").json()["events"]
    setup = api.client.get("/api/log/setup").json()
    assert setup["vkey"] == LOG_KEY.public().vkey()
    assert [w["name"] for w in setup["witnesses"]] == ["QA-log-witness", "TR-log-witness"]
    note = api.client.get("/log/checkpoint").text
    signed = open_checkpoint(parse_note(note), [LOG_KEY.public()])
    size, root = signed.checkpoint.size, signed.checkpoint.root_hash
    assert size == len(events)

    def fetch(level: int, n: int, width: int) -> bytes:
        path = tiles.tile_path(level, n, width)
        answer = api.client.get(f"/log/{path}")
        assert answer.status_code == 200, path
        assert answer.headers["content-type"] == "application/octet-stream"
        return answer.content

    reader = tiles.TileHashReader(size, fetch)
    assert merkle.tree_hash(size, reader) == root
    bundle_path = tiles.entry_bundle_path(0, size)
    entries = tiles.decode_entry_bundle(api.client.get(f"/log/{bundle_path}").content, size)
    assert [entry.hex() for entry in entries] == [event_from_json(e).hash for e in events]
    index = 5
    leaf = merkle.leaf_hash(entries[index])
    inclusion = api.client.get("/log/proof/inclusion", params={"index": index, "size": size})
    proof = [base64.b64decode(h) for h in inclusion.json()["hashes"]]
    merkle.verify_inclusion(index, size, leaf, proof, root)
    older = log.checkpoint(LOG_KEY.name, 3, reader)
    consistency = api.client.get("/log/proof/consistency", params={"old": 3, "new": size})
    proof = [base64.b64decode(h) for h in consistency.json()["hashes"]]
    merkle.verify_consistency(3, size, proof, older.root_hash, root)
    tlog = api.party("PK").get(f"/api/negotiations/{nid}/events/{entries[index].hex()[:10]}/proof")
    verify_proof(tlog.text, leaf, LOG_KEY.public())


@pytest.mark.parametrize(
    ("path", "status"),
    [("0/000", 404), ("0/001.p/3", 404), ("0/00", 404), ("entries/000.p/200", 404),
     ("0/x000/001", 404), ("99/000", 404)],
)  # fmt: skip
def test_tiles_the_log_does_not_have_are_404(api: Api, path: str, status: int) -> None:
    api.open()
    assert api.client.get(f"/log/tile/{path}").status_code == status


def test_proofs_beyond_the_log_are_refused(api: Api) -> None:
    api.open()
    assert (
        api.client.get("/log/proof/inclusion", params={"index": 0, "size": 99}).status_code == 404
    )
    assert api.client.get("/log/proof/inclusion", params={"index": 9, "size": 2}).status_code == 422
    assert api.client.get("/log/proof/consistency", params={"old": 0, "new": 2}).status_code == 422


# --- this server as a log witness for another log ------------------------------------------------

WITNESS = SigningKey.from_seed("witness.parley.example", b"v" * 32, COSIGNATURE_V1)


def test_add_checkpoint_answers_as_the_core_does(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, witness_keys=(WITNESS,), witness_logs=(LOG_KEY.public(),))
    other = log.MemoryLog(LOG_KEY)
    for i in range(5):
        other.append(bytes([i]) * 32)
    first = other.publish(0)
    core = Witness.create([WITNESS], {LOG_KEY.name: [LOG_KEY.public()]})
    reference = MemoryWitnessState()
    with TestClient(create_app(settings, services=make_services())) as client:

        def both(body: bytes) -> tuple[int, str, bytes]:
            answer = client.post("/add-checkpoint", content=body)
            expected = add_checkpoint(core, reference, body, 1_800_000_000)
            assert answer.status_code == expected.status
            assert answer.headers["content-type"] == expected.content_type
            if expected.status != 200:
                assert answer.content == expected.body
            return answer.status_code, answer.headers["content-type"], answer.content

        status, _, cosig = both(log.request_for(first, 0, other.hashes))
        assert status == 200 and cosig.startswith(b"\xe2\x80\x94 witness.parley.example ")
        status, kind, size = both(log.request_for(first, 0, other.hashes))
        assert (status, kind, size) == (409, "text/x.tlog.size", b"5\n")
        for i in range(5, 9):
            other.append(bytes([i]) * 32)
        grown = other.publish(0)
        assert both(log.request_for(grown, 5, other.hashes))[0] == 200
        assert both(b"old 0\n\nnot a checkpoint\n")[0] == 400
        stranger = SigningKey.from_seed("other.log.example", b"o" * 32)
        foreign = sign_checkpoint(Checkpoint(stranger.name, 1, b"\x01" * 32), stranger)
        assert both(f"old 0\n\n{foreign.to_text()}".encode())[0] == 404
        impostor = SigningKey.from_seed(LOG_KEY.name, b"i" * 32)
        forged = sign_checkpoint(Checkpoint(LOG_KEY.name, 12, b"\x02" * 32), impostor)
        assert both(f"old 9\n\n{forged.to_text()}".encode())[0] == 403


def test_the_witness_keeps_its_record_whatever_its_keys_are_called(tmp_path: Path) -> None:
    """A witness that lost its record would cosign a rolled-back log again from size 0."""
    other = log.MemoryLog(LOG_KEY)
    for i in range(5):
        other.append(bytes([i]) * 32)
    first = other.publish(0)
    services = make_services()
    # a record kept by an earlier version, under "witness:" and its first key's name
    root = Checkpoint.from_text(first.text).root_hash
    with services.store.transaction() as tx:
        assert tx.witness_compare_and_set(
            f"witness:{WITNESS.name}", LOG_KEY.name, None, Cosigned(5, root, first.encode())
        )
    added = SigningKey.from_seed("a-first-by-name.example", b"w" * 32, COSIGNATURE_V1)
    for keys in [(WITNESS,), (added, WITNESS), (added,)]:
        settings = make_settings(tmp_path, witness_keys=keys, witness_logs=(LOG_KEY.public(),))
        with TestClient(create_app(settings, services=services)) as client:
            again = client.post("/add-checkpoint", content=log.request_for(first, 0, other.hashes))
            assert (again.status_code, again.text) == (409, "5\n"), keys
    other.append(b"\x09" * 32)
    grown = other.publish(0)
    with TestClient(create_app(settings, services=services)) as client:
        answer = client.post("/add-checkpoint", content=log.request_for(grown, 5, other.hashes))
        assert answer.status_code == 200 and answer.text.startswith("— a-first-by-name.example ")


def test_a_server_without_witness_keys_is_no_witness(api: Api) -> None:
    answer = api.client.post("/add-checkpoint", content=b"old 0\n\n")
    assert answer.status_code == 404


def test_a_mistyped_address_is_a_page_for_a_browser_and_json_for_the_api(api: Api) -> None:
    page = api.client.get("/negotiatons", headers={"accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "There is no page at /negotiatons." in page.text and 'href="/keys"' in page.text
    for path, accept in (("/negotiatons", "application/json"), ("/api/nope", "text/html")):
        answer = api.client.get(path, headers={"accept": accept})
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def test_an_event_proof_is_found_only_among_the_negotiations_own_events(api: Api) -> None:
    """The proof route resolves a short hash by looking it up, not by reading every event; an
    event of another negotiation, or a version, is not found through this one."""
    first = api.open()
    join = api.services.events(first)[1].hash
    version = text_model.version_hash(clean_text())
    api.play("QA", EventType.PROPOSE, moves.propose(clean_text()))
    second = api.convene(make_charter(nonce="test-nonce-0002", with_log=True))  # same log
    pk = api.party("PK")
    assert pk.get(f"/api/negotiations/{first}/events/{join[:8]}/proof").status_code == 200
    assert pk.get(f"/api/negotiations/{second}/events/{join[:8]}/proof").status_code == 404
    assert pk.get(f"/api/negotiations/{first}/events/{version[:8]}/proof").status_code == 404
    assert pk.get(f"/api/negotiations/{first}/events/zz12/proof").status_code == 422
