"""Pages read as a browser reads them (its session cookie), without a browser."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from parley.api.login import COOKIE
from parley.core import bundle, edit, moves, textformat
from parley.core import text as text_model
from parley.core.event import EventType as T
from parley.core.event import body_hash
from parley.core.keys import SigningKey
from parley.web import move_pages, pages, views
from parley.web.caller import room_of
from tests.api.conftest import Api
from tests.negotiation import clean_text, make_charter


def _sent(api: Api) -> tuple[str, str]:
    """A negotiation whose draft QA proposed and sent to AF and PK: its id and the draft's."""
    nid = api.open()
    draft = clean_text()
    v1 = text_model.version_hash(draft)
    api.play("QA", T.PROPOSE, moves.propose(draft))
    api.play("QA", T.SEND, moves.send(v1, ["AF", "PK"]))
    return nid, v1


def test_a_conflict_settled_by_picking_a_wording_is_no_longer_listed(api: Api) -> None:
    nid, v1 = _sent(api)
    returns = {}
    for code, words in (("PK", "within 30 days"), ("AF", "within 90 days")):
        text = clean_text(f"The Parties shall refrain from cross-border attacks {words}.")
        api.play(code, T.AMEND, moves.amend(v1, text))
        returns[code] = text_model.version_hash(text)
    token = api.party("TR").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    page = api.client.get(f"/n/{nid}/integrate")
    assert page.status_code == 200 and "Conflicts between the returns" in page.text
    assert "<li>Article 1: " in page.text  # cited as a lawyer cites it, not by its id
    query = (f"base={v1}&returns={returns['PK']}&returns={returns['AF']}"
             f"&decide-art-1=return:{returns['AF']}")  # fmt: skip
    picked = api.client.get(f"/n/{nid}/integrate?{query}")
    assert picked.status_code == 200 and "90 days" in picked.text
    assert "Conflicts between the returns" not in picked.text


def _clashing_returns(api: Api) -> tuple[str, str, str]:
    """PK and AF returned clashing deadlines; TR (a mediator) is logged in. The query that
    merges both returns into the sent draft, the negotiation id and the draft's hash."""
    nid, v1 = _sent(api)
    returns = []
    for code, words in (("PK", "within 30 days"), ("AF", "within 90 days")):
        text = clean_text(f"The Parties shall refrain from cross-border attacks {words}.")
        api.play(code, T.AMEND, moves.amend(v1, text))
        returns.append(text_model.version_hash(text))
    token = api.party("TR").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    return f"base={v1}&returns={returns[0]}&returns={returns[1]}", nid, v1


def test_a_mediator_settles_a_clash_with_a_compromise_of_their_own(api: Api) -> None:
    """A drafting officer's compromise goes into the integration in one step, recorded as
    reworded, instead of integrating the options and amending afterwards."""
    query, nid, _ = _clashing_returns(api)
    page = api.client.get(f"/n/{nid}/integrate?{query}")
    assert 'value="own"' in page.text and "[[PK: 30 | AF: 90]]" in page.text
    wording = "The Parties shall refrain from cross-border attacks within [60]{AF,PK} days."
    fields = {"decide-art-1": "own", "wording-art-1": wording}
    settled = api.client.get(f"/n/{nid}/integrate?{query}&{urlencode(fields)}")
    assert settled.status_code == 200 and "Conflicts between the returns" not in settled.text
    assert f'name="wording-art-1" value="{wording}"' in settled.text  # what prepare will send
    base, *returns = [pair.split("=")[1] for pair in query.split("&")]
    form = {"base": base, "returns": returns, **fields}
    proposal = api.client.post(f"/n/{nid}/prepare/integrate", data=form)
    assert proposal.status_code == 200, proposal.text
    body = proposal.json()["body"]
    assert textformat.render_body(textformat.parse_body(wording)) in textformat.render(
        text_model.from_json(body["text"])
    )
    assert {"provision": "art-1", "decision": "reworded", "conflict": "wording"} in body[
        "decisions"
    ]


def test_my_own_wording_left_as_the_merge_wrote_it_settles_nothing(api: Api) -> None:
    query, nid, _ = _clashing_returns(api)
    page = api.client.get(f"/n/{nid}/integrate?{query}")
    merged = "The Parties shall refrain from cross-border attacks within [[PK: 30 | AF: 90]] days."
    assert merged in page.text
    fields = {"decide-art-1": "own", "wording-art-1": merged}
    same = api.client.get(f"/n/{nid}/integrate?{query}&{urlencode(fields)}")
    assert same.status_code == 200 and "reworded" not in same.text
    assert "Conflicts between the returns" in same.text


def test_a_compromise_that_does_not_read_is_refused_in_words(api: Api) -> None:
    query, nid, _ = _clashing_returns(api)
    for wording, said in (
        ("within [60 days", "Your wording of art-1: line 1, column 8: unclosed bracket"),
        (" ", "Your wording of art-1 is empty: write it, or decide otherwise"),
    ):
        fields = {"decide-art-1": "own", "wording-art-1": wording}
        page = api.client.get(f"/n/{nid}/integrate?{query}&{urlencode(fields)}")
        assert page.status_code == 422 and said in page.text


BRACKETED = """Title: Agreement on Ending Cross-Border Attacks
Language: en

# Article 1 — Cessation {#art-1}

The Parties shall refrain from [all]{PK} cross-border attacks.
"""


def test_the_dashboard_cites_open_provisions_as_a_lawyer_would_and_links_them(api: Api) -> None:
    nid = api.open()
    text = textformat.parse_bytes(BRACKETED.encode())
    v1 = text_model.version_hash(text)
    api.play("QA", T.PROPOSE, moves.propose(text))
    token = api.party("PK").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    page = api.client.get(f"/n/{nid}")
    assert page.status_code == 200
    link = f'<a href="/n/{nid}/text?v={v1}#p-art-1">Article 1</a>'
    assert f"1 bracket remains, in {link}." in page.text


def test_a_change_list_nested_too_deep_is_refused_in_words_not_a_500(api: Api) -> None:
    nid, v1 = _sent(api)
    token = api.party("PK").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    deep = "[" * 100_000 + "]" * 100_000
    page = api.client.post(f"/n/{nid}/amend", data={"base": v1, "ops": deep})
    assert page.status_code == 422
    assert "The list of changes nests too deeply to be read." in page.text


def test_a_caucus_move_prepared_by_the_page_carries_a_salt(api: Api) -> None:
    """What the browser signs for a caucus: a body whose hash no outsider can test guesses
    against; a public body stays as it is."""
    nid = api.open()
    token = api.party("AF").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    path = f"/n/{nid}/prepare/statement"
    caucus = api.client.post(path, data={"text": "For the mediators.", "audience": "caucus"})
    public = api.client.post(path, data={"text": "For everyone."})
    assert caucus.status_code == public.status_code == 200
    body = caucus.json()["body"]
    assert len(body[moves.SALT]) == 32 and caucus.json()["envelope"]["body"] == body_hash(body)
    assert public.json()["body"] == moves.statement("For everyone.")


def test_a_version_is_found_by_its_first_digits_as_the_pages_show_it(api: Api) -> None:
    nid, v1 = _sent(api)
    token = api.party("PK").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    page = api.client.get(f"/n/{nid}/text?v={v1[:8]}")
    assert page.status_code == 200 and f'value="{v1}"' in page.text
    assert api.client.get(f"/n/{nid}/text?v=0000").status_code == 404


def test_a_confidential_version_says_so_in_the_version_menus(api: Api) -> None:
    nid, v1 = _sent(api)
    text = clean_text("The Parties shall refrain from cross-border attacks at once.")
    api.play("PK", T.AMEND, moves.amend(v1, text), ("PK", "QA", "TR"))
    token = api.party("PK").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    page = api.client.get(f"/n/{nid}/text")
    assert "returned by PK" in page.text and "confidential (PK, QA, TR)" in page.text


def test_the_home_page_reads_nothing_for_the_negotiations_that_are_not_the_callers(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every negotiation on the server is listed to find the caller's: a charter at hand says
    whose it is, with no read of the store for each of the others."""
    for n in range(3):
        api.charter, api.state = None, None
        api.convene(make_charter(nonce=f"home-page-00{n}"))
    member = api.party("PK").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, member)
    assert api.client.get("/").status_code == 200  # the charters are at hand from now on
    stranger = SigningKey.from_seed("XX", b"stranger".ljust(32, b"\x00"))
    api.client.cookies.set(COOKIE, api.party("XX", stranger).headers["Authorization"][7:])
    reads: list[str] = []
    reading = api.services.reading

    @contextmanager
    def logged() -> Iterator[Any]:
        with reading() as tx:
            reads.append("a read")
            yield tx

    monkeypatch.setattr(api.services, "reading", logged)
    page = api.client.get("/")
    assert page.status_code == 200 and reads == ["a read"]  # the listing, and nothing else


def test_a_deadline_already_past_is_refused_and_a_missed_one_is_marked_overdue(api: Api) -> None:
    """A reply-by date of 2020 was prepared, signed and listed like any other."""
    nid = api.open()
    draft = clean_text()
    v1 = text_model.version_hash(draft)
    api.play("QA", T.PROPOSE, moves.propose(draft))
    token = api.party("QA").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    form = {"version": v1, "to": ["PK", "AF"], "deadline": "2020-01-01T12:00"}
    refused = api.client.post(f"/n/{nid}/prepare/send", data=form)
    assert refused.status_code == 422
    assert "the deadline 1 January 2020, 12:00 UTC has passed" in refused.json()["error"]["message"]
    # by the server's clock: still to come, then missed (marked, not hidden)
    api.play("QA", T.SEND, moves.send(v1, ["AF", "PK"], "2026-03-05T17:00:00Z"))
    assert "by 5 March 2026, 17:00 UTC" in api.client.get(f"/n/{nid}").text
    api.services.clock.now += timedelta(days=5)  # type: ignore[attr-defined]
    page = api.client.get(f"/n/{nid}")
    assert "overdue: was due 5 March 2026, 17:00 UTC" in page.text


def test_an_amendment_cannot_hold_brackets_for_others_or_for_nobody(api: Api) -> None:
    """PK's edit on the Amend page put '[three]{XX}' and '[three]{AF}' into a provision: both
    were offered for signing."""
    nid, v1 = _sent(api)
    token = api.party("PK").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    provision = next(iter(text_model.citations(clean_text())))
    for holder, said in (("XX", "XX: not in the charter"), ("AF", "yours (PK), not AF's")):
        words = f"Within [three]{{{holder}}} days."
        form = {"base": v1, "ops": "[]", "op": "body", "id": provision,
                "form": f"body-{provision}", "body": words}  # fmt: skip
        page = api.client.post(f"/n/{nid}/amend", data=form)
        assert page.status_code == 422 and said in page.text.replace("&#39;", "'")
    form = {"base": v1, "ops": "[]", "op": "body", "id": provision, "form": f"body-{provision}",
            "body": "Within [three]{PK} days."}  # fmt: skip
    assert api.client.post(f"/n/{nid}/amend", data=form).status_code == 200


def test_a_fault_nobody_foresaw_is_a_page_in_words_not_json(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Verify page once answered a browser with the API's JSON error."""

    def broken(data: bytes, **_: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(bundle, "check_bundle", broken)
    page = api.client.post("/verify", data={"bundle": "{}"})
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Something went wrong on the server" in page.text and "a bug" not in page.text


def test_an_edit_may_put_back_what_an_earlier_edit_took_out(api: Api) -> None:
    """Each edit was judged against the one before: AF's bracket, agreed by one edit and put
    back by the next, was refused as an attribution to PK's name of AF's words."""
    nid = api.open()
    text = textformat.parse_bytes(BRACKETED.replace("{PK}", "{AF}").encode())
    v1 = text_model.version_hash(text)
    api.play("QA", T.PROPOSE, moves.propose(text))
    api.play("QA", T.SEND, moves.send(v1, ["PK"]))
    token = api.party("PK").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    agreed = '[{"op": "agree", "id": "art-1", "index": "0"}]'
    back = {"base": v1, "ops": agreed, "op": "body", "id": "art-1", "form": "body-art-1",
            "body": "The Parties shall refrain from [all]{AF} cross-border attacks."}  # fmt: skip
    assert api.client.post(f"/n/{nid}/amend", data=back).status_code == 200
    more = {**back, "body": "The Parties shall refrain from [all]{AF} [such]{AF} attacks."}
    refused = api.client.post(f"/n/{nid}/amend", data=more)
    assert refused.status_code == 422 and "not AF&#39;s" in refused.text


def test_kept_edits_that_no_longer_apply_are_dropped_once_and_said_so(api: Api) -> None:
    """They were offered again on every visit, failing each time; and a refused edit was taken
    for starting again, so the browser forgot the edits it kept."""
    nid, v1 = _sent(api)
    token = api.party("PK").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    gone = '[{"op": "body", "id": "art-9", "body": "Nothing."}]'
    restored = api.client.post(f"/n/{nid}/amend", data={"base": v1, "ops": gone,
                                                        "action": "restore"})  # fmt: skip
    assert restored.status_code == 422 and "Your kept changes are dropped" in restored.text
    assert 'data-dropped="yes"' in restored.text
    provision = next(iter(text_model.citations(clean_text())))
    refused = {"base": v1, "ops": "[]", "op": "body", "id": provision,
               "form": f"body-{provision}", "body": "Within [three]{XX} days."}  # fmt: skip
    page = api.client.post(f"/n/{nid}/amend", data=refused)
    assert page.status_code == 422 and 'data-dropped=""' in page.text
    started_again = {"base": v1, "ops": "[]", "action": "reset", "form": "reset"}
    assert 'data-dropped="yes"' in api.client.post(f"/n/{nid}/amend", data=started_again).text


def test_a_pasted_draft_names_the_version_it_was_drafted_from(api: Api) -> None:
    """The Moves page offers the current version as the draft's parent; none is a choice too,
    and a version the caller cannot read is refused."""
    nid, v1 = _sent(api)
    token = api.party("QA").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    page = api.client.get(f"/n/{nid}/act")
    assert (
        '<select id="propose-base" name="base"><option value="">none: a new text</option>'
        in (page.text)
        and f'<option value="{v1}" selected>' in page.text
    )
    source = textformat.render(clean_text("The Parties shall refrain from attacks at sea."))
    path = f"/n/{nid}/prepare/propose"
    drafted = api.client.post(path, data={"source": source, "base": v1})
    new = api.client.post(path, data={"source": source, "base": ""})
    unknown = api.client.post(path, data={"source": source, "base": "ab" * 32})
    assert drafted.status_code == new.status_code == 200
    assert drafted.json()["body"]["parents"] == [v1] and new.json()["body"]["parents"] == []
    assert "drafted from" in drafted.json()["summary"] and unknown.status_code == 404
    again = textformat.render(clean_text())  # the current text, pasted again
    same = api.client.post(path, data={"source": again, "base": v1})
    assert same.status_code == 422 and "already on the record" in same.json()["error"]["message"]


def test_pages_are_built_off_the_event_loop(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A long negotiation's page reads and renders for a while: on the event loop, it held up
    every other request of the process (state reads, submissions, live streams)."""
    nid, _ = _sent(api)
    token = api.party("QA").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    on_loop: list[bool] = []
    real = room_of

    def watched(request: Any, nid: str) -> Any:
        try:
            asyncio.get_running_loop()
            on_loop.append(True)
        except RuntimeError:  # a worker thread: no loop runs here
            on_loop.append(False)
        return real(request, nid)

    for module in (pages, move_pages):
        monkeypatch.setattr(module, "room_of", watched)
    for path in ("", "/text", "/versions", "/act", "/amend", "/audit", "/agreement"):
        assert api.client.get(f"/n/{nid}{path}").status_code == 200, path
    assert api.client.post(f"/n/{nid}/prepare/statement", data={"text": "x"}).status_code == 200
    assert on_loop and not any(on_loop)


def test_a_long_history_shows_its_latest_part_with_a_way_to_all_of_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thousands of events made pages of megabytes: the Versions and Audit pages list the
    latest events and link to them all (the Audit page's script fetches every event to check
    it); the dashboard and the Agreement page list the latest statements, and link to them
    all."""
    monkeypatch.setattr(pages, "HISTORY_SHOWN", 3)
    monkeypatch.setattr(views, "DASHBOARD_STATEMENTS", 2)
    monkeypatch.setattr(pages, "AGREEMENT_STATEMENTS", 3)
    nid, _ = _sent(api)
    for n in range(4):
        api.play("PK", T.STATEMENT, moves.statement(f"Statement number {n}."))
    token = api.party("PK").headers["Authorization"].removeprefix("Bearer ")
    api.client.cookies.set(COOKIE, token)
    versions = api.client.get(f"/n/{nid}/versions?view=sides").text
    assert "The latest 3 of 11 events." in versions and versions.count('<span class="when">') == 3
    assert 'href="/n/' + nid + '/versions?view=sides&amp;history=all#history-h"' in versions
    whole = api.client.get(f"/n/{nid}/versions?view=sides&history=all").text
    assert whole.count('<span class="when">') == 11 and "Show them all" not in whole
    live = api.client.get(f"/n/{nid}/live").text
    assert "The latest 2 of 4:" in live and "Statement number 3." in live
    assert "Statement number 1." not in live
    assert f'href="/n/{nid}/agreement?statements=all#statements"' in live
    agreement = api.client.get(f"/n/{nid}/agreement").text
    assert "The latest 3 of 4:" in agreement and "Statement number 0." not in agreement
    every = api.client.get(f"/n/{nid}/agreement?statements=all").text
    assert all(f"Statement number {n}." in every for n in range(4)) and "list them all" not in every
    audit = api.client.get(f"/n/{nid}/audit").text  # bodies are fetched by the browser
    assert audit.count("<tr data-seq=") == 3 and "Statement number 0." not in audit
    assert f'data-events="/api/negotiations/{nid}/events" data-count="11" data-page="500"' in audit
    assert f'href="/n/{nid}/audit?history=all#chain-h"' in audit
    whole_audit = api.client.get(f"/n/{nid}/audit?history=all").text
    assert whole_audit.count("<tr data-seq=") == 11 and "List them all" not in whole_audit


def test_the_verify_page_takes_what_the_server_takes(api: Api) -> None:
    """A form is held to the server's body limit (PARLEY_MAX_BODY_BYTES, 4 MiB by default),
    not to a smaller one of its own: a long negotiation's bundle, URL-encoded, is large."""
    bulky = "x" * (3 * 2**20)  # over the 2 MiB forms were once held to
    checked = api.client.post("/verify", data={"bundle": bulky})
    assert checked.status_code == 200 and "Invalid: do not rely on this bundle" in checked.text
    refused = api.client.post("/verify", data={"bundle": bulky + "x" * 2**20})
    assert refused.status_code == 413


def test_the_text_page_shows_each_provisions_comments_for_whoever_may_read_them(
    api: Api,
) -> None:
    nid, v1 = _sent(api)
    api.play("PK", T.COMMENT, moves.comment(v1, "art-1", "Thirty days is too short."))
    aside = moves.comment(v1, "art-1", "A word for the mediators only.")
    api.play("AF", T.COMMENT, aside, ("AF", "QA", "TR"))
    for code, sees_aside in (("QA", True), ("PK", False)):
        token = api.party(code).headers["Authorization"].removeprefix("Bearer ")
        api.client.cookies.set(COOKIE, token)
        page = api.client.get(f"/n/{nid}/text?v={v1}").text
        assert "Thirty days is too short." in page
        assert ("A word for the mediators only." in page) is sees_aside


def test_the_verify_page_folds_many_statements_after_the_logs_checks(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thousands of statements pushed the log's checks out of sight: past a few, they are
    folded under their count, and listed after the log."""
    nid = api.open()
    for n in range(3):
        api.play("PK", T.STATEMENT, moves.statement(f"Declaration number {n}."))
    data = api.services.bundle(nid).decode()
    monkeypatch.setattr(pages, "STATEMENTS_OPEN", 3)
    opened = api.client.post("/verify", data={"bundle": data}).text
    assert '<details class="statements">' not in opened
    assert opened.index("<h3>Log</h3>") < opened.index("Declaration number 0.")
    monkeypatch.setattr(pages, "STATEMENTS_OPEN", 2)
    folded = api.client.post("/verify", data={"bundle": data}).text
    assert '<details class="statements"><summary><h3>Statements (not binding): 3</h3>' in folded
    assert all(f"Declaration number {n}." in folded for n in range(3))


def test_returns_to_a_superseded_text_are_shown_and_not_integrated(api: Api) -> None:
    """TR integrated PK's return; AF's return of the same draft is offered, but integrating it
    from the draft would drop PK's edit: the page says so and how to go on, and preparing the
    integration is refused."""
    _, nid, v1 = _clashing_returns(api)
    pk = next(v for v in api.s.versions.values() if v.author == "PK")
    af = next(v for v in api.s.versions.values() if v.author == "AF")
    text = api.services.version(nid, pk.hash)
    decisions = [{"provision": "art-1", "decision": "merged"}]
    api.play("TR", T.INTEGRATE, moves.integrate(v1, [pk.hash], text, decisions))
    page = api.client.get(f"/n/{nid}/integrate")
    assert page.status_code == 200
    assert f"Version {v1[:8]}… is no longer the current text: TR&#39;s integration made" in (
        page.text
    )
    assert "Decisions, provision by provision" not in page.text
    form = {"base": v1, "returns": [af.hash]}
    refused = api.client.post(f"/n/{nid}/prepare/integrate", data=form)
    assert refused.status_code == 422 and "no longer the current text" in refused.text


def test_a_deletion_can_be_taken_as_a_returns_wording(api: Api) -> None:
    """PK deleted Article 2, AF amended it: taking PK's wording removes it (it was an error
    page that lost every other decision)."""
    nid = api.open()
    source = "Title: T\n\n# Article 1 {#a1}\n\nFirst.\n\n# Article 2 {#a2}\n\nSecond WORDS.\n"
    draft, af_text = (textformat.parse(source.replace("WORDS", w)) for w in ("words", "other"))
    pk_text = edit.remove(draft, "a2")
    v1 = text_model.version_hash(draft)
    api.play("QA", T.PROPOSE, moves.propose(draft))
    api.play("QA", T.SEND, moves.send(v1, ["AF", "PK"]))
    returns = {}
    for code, text in (("PK", pk_text), ("AF", af_text)):
        api.play(code, T.AMEND, moves.amend(v1, text))
        returns[code] = text_model.version_hash(text)
    api.client.cookies.set(COOKIE, api.party("TR").headers["Authorization"].split()[1])
    query = f"base={v1}&returns={returns['PK']}&returns={returns['AF']}"
    picked = api.client.get(f"/n/{nid}/integrate?{query}&decide-a2=return:{returns['PK']}")
    assert picked.status_code == 200, picked.text
    assert "Second" not in picked.text.split('id="merge-choices"')[1].split("<h3>Redline")[0]
    form = {"base": v1, "returns": list(returns.values()), "decide-a2": f"return:{returns['PK']}"}
    body = api.client.post(f"/n/{nid}/prepare/integrate", data=form).json()["body"]
    assert [p["id"] for p in body["text"]["provisions"]] == ["a1"]
    assert {"provision": "a2", "decision": "return", "from": "PK", "conflict": "edit/delete"} in (
        body["decisions"]
    )


def test_a_text_written_from_right_to_left_is_shown_so(api: Api) -> None:
    nid = api.open()
    source = "Title: اتفاق\nLanguage: ar\n\n# Article 1 {#a1}\n\nوفقا للمادة 5(2).\n"
    arabic = textformat.parse(source)
    api.play("QA", T.PROPOSE, moves.propose(arabic))
    api.client.cookies.set(COOKIE, api.party("QA").headers["Authorization"].split()[1])
    page = api.client.get(f"/n/{nid}/text").text
    assert 'lang="ar" dir="rtl">' in page and '<html lang="en">' in page  # the page's own words
