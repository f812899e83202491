"""signing.js in the real Chromium makes the bytes, hashes and signatures the core makes."""

from __future__ import annotations

import base64
import random
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest

from parley.core import canonical, merkle, moves, protocol
from parley.core.canonical import Tag
from parley.core.event import Envelope, EventType, SignedEvent, body_hash, event_hash
from parley.core.keys import SigningKey, key_file_bytes, read_key_file
from tests import negotiation as nego
from tests.web.conftest import Server

MODULE = "/static/web/signing.js"
SAMPLES = 400

ALPHABET = (
    "abcXYZ 019_-.:/\"\\'\n\t\r\b\f\x00\x01\x1f\x7f\u2028\u2029é日本ßÅ€\ufb01\uff61\ud7ff"
    "\U0001f600\U0001d11e\U00010437"
)
KEYS = ["a", "b", "A", "_", "aa", "ab", "é", "日本", "\uff61", "\U0001f600", "\ufb01", "z1", "1"]


def _string(rng: random.Random) -> str:
    raw = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))
    return unicodedata.normalize("NFC", raw)


def _value(rng: random.Random, depth: int = 0) -> canonical.JsonValue:
    kind = rng.randint(0, 7 if depth < 4 else 4)
    scalars: list[Any] = [
        None, True, False, rng.randint(-(2**53) + 1, 2**53 - 1), rng.randint(-1000, 1000),
        _string(rng), 2**53 - 1, -(2**53 - 1), 0,
    ]  # fmt: skip
    if kind <= 4:
        return rng.choice(scalars)  # type: ignore[no-any-return]
    if kind == 5:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    names = rng.sample(KEYS, rng.randint(0, 5)) + [_string(rng) for _ in range(rng.randint(0, 2))]
    return {name: _value(rng, depth + 1) for name in names}


def _values(seed: int, n: int) -> list[canonical.JsonValue]:
    rng = random.Random(seed)
    return [_value(rng) for _ in range(n)]


@pytest.fixture(scope="module")
def page(server: Server, browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(f"{server.url}/verify")
    yield tab
    context.close()


def _js(page: Any, body: str, arg: object = None) -> Any:
    return page.evaluate(f"async (arg) => {{ const m = await import('{MODULE}'); {body} }}", arg)


def test_canonical_bytes_are_byte_identical_to_the_python_core(page: Any) -> None:
    values = _values(8785, SAMPLES)
    got = _js(page, "return arg.map(v => m.hex(m.tagged('parley/v1/body', v)));", values)
    expected = [canonical.tagged(Tag.BODY, v).hex() for v in values]
    mismatches = [(v, g, e) for v, g, e in zip(values, got, expected, strict=True) if g != e]
    assert mismatches == []


def test_object_keys_sort_by_utf16_code_units_like_rfc8785(page: Any) -> None:
    value = {"\uff61": 1, "\U0001f600": 2, "a": 3, "é": 4}
    got = _js(page, "return m.canonical(arg);", value)
    assert got.encode() == canonical.canonical_json(value)
    assert got.index("\U0001f600") < got.index("\uff61")  # surrogates sort before U+FF61


def test_hashes_match_the_core(page: Any) -> None:
    values = _values(1, 50)
    got = _js(page, "return Promise.all(arg.map(v => m.hexDigest('parley/v1/text', v)));", values)
    assert got == [canonical.hex_digest(Tag.TEXT, v) for v in values]


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("m.canonical({a: 1.5})", "only integers"),
        ("m.canonical([2 ** 53])", "only integers"),
        ("m.canonical('e\\u0301')", "NFC"),
        ("m.canonical('\\ud800')", "surrogate"),
        ("m.canonical({a: undefined})", "cannot appear"),
    ],
)
def test_what_the_core_refuses_is_refused(page: Any, expression: str, message: str) -> None:
    got = _js(page, f"try {{ {expression}; return 'accepted'; }} catch (e) {{ return e.message; }}")
    assert message in got


def _key_file(code: str) -> tuple[SigningKey, str]:
    key = nego.key_for(code)
    return key, key_file_bytes(key).decode()


def test_an_imported_key_file_keeps_its_vkey_and_stays_non_extractable(page: Any) -> None:
    key, data = _key_file("PK")
    got = _js(
        page,
        "const r = await m.importKeyFile(arg); let out = null;"
        "try { await crypto.subtle.exportKey('pkcs8', r.privateKey); out = 'exported'; }"
        "catch (e) { out = 'refused'; }"
        "return {vkey: r.vkey, id: r.keyId, extractable: r.privateKey.extractable, export: out};",
        data,
    )
    assert got == {"vkey": key.public().vkey(), "id": key.public().id_hex,
                   "extractable": False, "export": "refused"}  # fmt: skip


def test_an_encrypted_key_file_is_refused_with_directions(page: Any) -> None:
    key = nego.key_for("AF")
    data = key_file_bytes(key, passphrase="secret", salt=b"s" * 16, nonce=b"n" * 12).decode()
    got = _js(page, "try { await m.importKeyFile(arg); return 'imported'; }"
                    " catch (e) { return e.message; }", data)  # fmt: skip
    assert "encrypted" in got and "parley key decrypt" in got


def test_a_generated_key_has_a_c2sp_vkey_the_core_parses(page: Any) -> None:
    from parley.core.keys import parse_vkey

    got = _js(page, "const r = await m.generateKey('QA'); return [r.vkey, r.keyId,"
                    " r.privateKey.extractable];")  # fmt: skip
    public = parse_vkey(got[0])
    assert (public.name, public.id_hex, got[2]) == ("QA", got[1], False)


def test_a_browser_signed_event_passes_the_protocol(page: Any) -> None:
    state = nego.Table().s  # the charter, before anyone joined
    key, data = _key_file("PK")
    body = moves.join(state)
    envelope = Envelope(
        negotiation=state.negotiation, seq=state.seq, prev=state.head, type=EventType.JOIN,
        author="PK", key=key.public().id_hex, time="2026-11-29T10:00:00Z", audience=None,
        body=body_hash(body),
    )  # fmt: skip
    got = _js(
        page,
        "const r = await m.importKeyFile(arg.file);"
        "await m.checkProposal({envelope: arg.envelope, body: arg.body}, {type: 'join'});"
        "return [await m.signEvent(r, arg.envelope),"
        " await m.hexDigest('parley/v1/body', arg.body)];",
        {"file": data, "envelope": envelope.to_json(), "body": body},
    )
    signature = base64.b64decode(got[0])
    assert got[1] == envelope.body
    event = SignedEvent(envelope, signature, body, event_hash(envelope, signature))
    after = protocol.apply(state, event)
    assert "PK" in after.joined


def test_a_tampered_envelope_is_not_signed(page: Any) -> None:
    body = {"version": "ab" * 32, "mode": "firm"}
    envelope = {"type": "accept", "body": canonical.hex_digest(Tag.BODY, {**body, "mode": "x"})}
    script = "try { await m.checkProposal(arg, {type: 'accept'}); return 'signed'; }"
    script += " catch (e) { return e.message; }"
    got = _js(page, script, {"envelope": envelope, "body": body})
    assert got.startswith("refusing to sign")


def test_consistency_proofs_from_the_core_verify_in_the_browser(page: Any) -> None:
    tree = merkle.MemoryHashes()
    roots = {0: merkle.root([])}
    for i in range(1, 40):
        tree.append(f"leaf {i}".encode())
        roots[i] = tree.root()
    cases = []
    for old, new in [(1, 1), (1, 2), (3, 7), (4, 8), (5, 39), (16, 33), (38, 39), (7, 7)]:
        proof = merkle.prove_consistency(old, new, tree)
        b64 = [base64.b64encode(h).decode() for h in proof]
        cases.append([old, new, base64.b64encode(roots[old]).decode(),
                      base64.b64encode(roots[new]).decode(), b64])  # fmt: skip
    script = (
        "const out = []; for (const [o, n, r1, r2, p] of arg) {"
        " const proof = p.map(h => m.fromBase64(h, 'h'));"
        " const a = m.fromBase64(r1, 'r'), b = m.fromBase64(r2, 'r');"
        " const good = await m.verifyConsistency(o, n, a, b, proof);"
        " const bad = proof.length ? await m.verifyConsistency(o, n, a, b,"
        "   [proof[0].map(x => x ^ 1), ...proof.slice(1)]) : await m.verifyConsistency(o, n, a,"
        "   b.map(x => x ^ 1), proof);"
        " out.push([good, bad]); } return out;"
    )
    assert _js(page, script, cases) == [[True, False]] * len(cases)


def test_a_cosigned_checkpoint_verifies_in_the_browser(page: Any) -> None:
    log = nego.make_log()
    for i in range(5):
        log.append(bytes([i]) * 32)
    note = log.publish(1_790_000_000).to_text()
    witnesses = [k.public().vkey() for k in nego.WITNESS_KEYS.values()]
    got = _js(page, "const r = await m.checkCheckpoint(arg.note, arg.log, arg.w);"
                    "return [r.log, r.cosigners.map(c => c.ok), r.checkpoint.size];",
              {"note": note, "log": nego.LOG_KEY.public().vkey(), "w": witnesses})  # fmt: skip
    assert got == [True, [True, True], 5]


def test_key_files_round_trip_between_python_and_the_browser(page: Any) -> None:
    key, data = _key_file("TR")
    assert read_key_file(data.encode()) == key


def _chain_results(page: Any, negotiation: str, pages: list[list[dict[str, Any]]]) -> Any:
    script = (
        "const check = new m.ChainCheck(arg.negotiation); const out = [];"
        " for (const events of arg.pages) out.push(...await check.add(events));"
        " return out.map(r => [r.ok, r.why || null, r.hash || null, r.withheld || false]);"
    )
    return _js(page, script, {"negotiation": negotiation, "pages": pages})


def test_a_record_checked_in_pages_is_checked_as_a_whole(page: Any) -> None:
    table = nego.Table().open()
    table.play("PK", EventType.STATEMENT, moves.statement("For the record."))
    events = [e.to_json() for e in table.events]
    whole = _chain_results(page, table.s.negotiation, [events])
    assert whole == [[True, None, e.hash, False] for e in table.events]
    for cut in range(1, len(events)):  # the audit page fetches the record in pages
        assert _chain_results(page, table.s.negotiation, [events[:cut], events[cut:]]) == whole
    withheld = [*events[:-1], {**events[-1], "body": None}]  # a caucus body the caller may not read
    assert _chain_results(page, table.s.negotiation, [withheld])[-1][3] is True


def test_a_tampered_record_fails_where_it_was_changed(page: Any) -> None:
    table = nego.Table().open()
    table.play("PK", EventType.STATEMENT, moves.statement("For the record."))
    nid, events = table.s.negotiation, [e.to_json() for e in table.events]
    last = len(events) - 1

    def why(pages: list[list[dict[str, Any]]]) -> list[str | None]:
        return [r[1] for r in _chain_results(page, nid, pages)]

    body = [*events[:last], {**events[last], "body": {"text": "Something else."}}]
    assert why([body]) == [None] * last + ["the body does not match its hash"]
    flipped = bytearray(base64.b64decode(events[last]["signature"]))
    flipped[0] ^= 1
    forged = [*events[:last], {**events[last], "signature": base64.b64encode(flipped).decode()}]
    assert (
        why([forged])[last]
        == "the signature does not verify with PK's key " + (events[last]["envelope"]["key"])
    )
    assert why([events[:1], events[2:]])[1] == "sequence number 2 where 1 was expected"
    named = [r[1] for r in _chain_results(page, "ab" * 32, [events])]  # another id's record
    assert named == ["the charter is not the one this negotiation names"] * len(events)
