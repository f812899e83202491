"""A whole negotiation in the browser, from charter to in force, one browser context per delegation.

PK and AF are the parties; QA and TR mediate, witness and guarantee. Each imports its own key
file; QA convenes the charter on the New negotiation page, each delegation joins in its own
browser, and every move is prepared by the server, checked and signed in the page, and recorded
by the API. A stranger's browser sees nothing; a tampered request is refused and said so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from parley.core import keys
from tests.web.conftest import Server, accessible, axe_missing, shot

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


class Delegation:
    """One delegation's browser."""

    def __init__(
        self, context: BrowserContext, server: Server, code: str, nid: str | None = None
    ) -> None:
        self.context, self.server, self.code = context, server, code
        self.page: Page = context.new_page()
        self.nid = nid or server.negotiation

    def at(self, nid: str) -> Delegation:
        """The same browser (key and session), on another negotiation."""
        return Delegation(self.context, self.server, self.code, nid)

    def vkey(self) -> str:
        return keys.read_key_file(self.server.key_file(self.code).read_bytes()).public().vkey()

    def go(self, path: str) -> Page:
        self.page.goto(self.server.url + path.replace("{nid}", self.nid))
        return self.page

    def log_in(self) -> None:
        page = self.go("/keys")
        page.set_input_files("#key-file", str(self.server.key_file(self.code)))
        page.get_by_role("button", name="Import and log in").click()
        page.wait_for_url(self.server.url + "/")

    def sign(self, form: Locator) -> None:
        """Prepare the move, look at it, sign it, and wait until it is recorded."""
        form.locator("button[type=submit]").click()
        with self.page.expect_navigation():  # the page reloads on the new state once recorded
            form.locator("[data-sign]").click()
            expect(form.locator(".proposal")).to_contain_text("Signed and recorded")

    def move(self, path: str, move: str, index: int = 0) -> Locator:
        page = self.go(path)
        return page.locator(f"form[data-move={move}]").nth(index)


@pytest.fixture(scope="module")
def table(server: Server, browser: Any) -> Iterator[dict[str, Delegation]]:
    contexts = {code: browser.new_context() for code in ("PK", "AF", "QA", "TR")}
    yield {code: Delegation(c, server, code) for code, c in contexts.items()}
    for c in contexts.values():
        c.close()


def seen(page: Page, name: str) -> Page:
    """A page a person looks at: its screenshot kept, and axe-core's WCAG 2.1 AA rules met."""
    shot(page, name)
    accessible(page, name)
    return page


def test_accessibility_rules_are_available() -> None:
    """The pages are held to axe-core's rules wherever ``seen`` is called, if axe-core is here."""
    reason = axe_missing()
    if reason:
        pytest.skip(reason)


def _draft() -> str:
    return resources.files("parley.examples").joinpath("draft-v1.txt").read_text()


@contextmanager
def _in_place(page: Page) -> Iterator[None]:
    """An edit on the Amend page is answered in place: the page's main part is replaced, and
    the browser's history does not grow (Back leaves the page, not the last edit)."""
    before = page.evaluate("history.length")
    old = page.locator("main").element_handle()
    yield
    page.wait_for_function("main => !main.isConnected", arg=old)  # the answer is shown
    assert page.evaluate("history.length") == before


def _edit(d: Delegation, provision: str, old: str, new: str) -> None:
    page = d.page
    details = page.locator(f"#p-{re.escape(provision)} details.edit-provision")
    details.locator("summary").click()
    area = details.locator("textarea[name=body]")
    area.fill(area.input_value().replace(old, new))
    with _in_place(page):
        details.get_by_role("button", name="Save this wording").click()


OPEN_ALL = "document.querySelectorAll('details.edit-provision').forEach(x => x.open = true)"


def _settle_everything(d: Delegation) -> int:
    """Agree every bracket, keep the first option, lift every reservation: click by click."""
    clicks = 0
    pattern = re.compile(r"^(Agree “|Keep [A-Z0-9]+'s option|Lift [A-Z0-9]+'s reservation)")
    while clicks < 40:
        d.page.evaluate(OPEN_ALL)
        buttons = d.page.get_by_role("button", name=pattern)
        if buttons.count() == 0:
            return clicks
        with _in_place(d.page):
            buttons.first.click()
        clicks += 1
    raise AssertionError("the text did not become clean")


ROWS = (
    ("QA", "State of Qatar", ("mediator", "witness", "guarantor")),
    ("TR", "Republic of Türkiye", ("mediator", "witness", "guarantor")),
    ("PK", "Islamic Republic of Pakistan", ("party",)),
    ("AF", "Afghanistan", ("party",)),
)


def _convene(qa: Delegation, table: dict[str, Delegation]) -> str:
    """QA fills in the New negotiation page, is told of a wrong key beside it, signs the charter."""
    page = qa.go("/new")
    expect(page.locator("#vkey-0")).to_have_value(qa.vkey())
    seen(page, "00-new-negotiation")
    page.locator("#title").fill("Agreement on Water, Trade and the Border Crossings")
    for n, (code, name, roles) in enumerate(ROWS):
        page.locator(f"#code-{n}").fill(code)
        page.locator(f"#name-{n}").fill(name)
        for role in roles:
            page.locator(f"input[name=role-{n}][value={role}]").check()
        page.locator(f"#vkey-{n}").fill(table[code].vkey())
    form = page.locator("#convene-form")
    page.locator("#vkey-3").fill(table["PK"].vkey())  # AF's row, with PK's key
    form.get_by_role("button", name="Prepare the charter").click()
    expect(page.locator("#err-vkey-3")).to_contain_text("PK's key, not AF's")
    expect(page.locator("#vkey-3")).to_have_attribute("aria-invalid", "true")
    page.locator("#err-vkey-3").scroll_into_view_if_needed()
    seen(page, "00b-new-negotiation-error")
    page.locator("#vkey-3").fill(table["AF"].vkey())
    form.get_by_role("button", name="Prepare the charter").click()
    expect(page.locator("#err-vkey-3")).to_be_hidden()
    expect(form.locator(".proposal")).to_contain_text("Convene")
    shot(form.locator(".proposal"), "00c-new-negotiation-proposal")
    accessible(form.page, "00c-new-negotiation-proposal")
    form.locator("[data-sign]").click()
    page.wait_for_url(re.compile(r"/n/[0-9a-f]{64}$"))
    return page.url.rsplit("/", 1)[1]


def test_the_whole_negotiation_in_four_browsers(
    table: dict[str, Delegation], tmp_path: Path
) -> None:
    for d in table.values():
        d.log_in()
    nid = _convene(table["QA"], table)
    table = {code: d.at(nid) for code, d in table.items()}
    pk, af, qa, tr = table["PK"], table["AF"], table["QA"], table["TR"]
    expect(qa.go("/n/{nid}").locator("h1")).to_contain_text("Water, Trade")
    for d in table.values():
        _join(d)
    seen(qa.go("/"), "01-home")
    seen(qa.go("/n/{nid}"), "02-dashboard-open")

    # QA proposes the first draft and sends it to the parties, with a deadline
    form = qa.move("/n/{nid}/act", "propose")
    form.locator("#source").fill(_draft())
    qa.sign(form)
    form = qa.move("/n/{nid}/act", "send")
    form.get_by_label("PK").check()
    form.get_by_label("AF").check()
    form.locator("#deadline").fill("2030-01-15T12:00")
    qa.sign(form)
    # only who holds the pen proposes and sends: a party is not offered either
    pk.go("/n/{nid}/act")
    expect(pk.page.locator("form[data-move=propose], form[data-move=send]")).to_have_count(0)
    seen(pk.go("/n/{nid}"), "03-dashboard-waiting-for-pk")
    expect(pk.page.locator("#live")).to_contain_text("review version")
    seen(pk.go("/n/{nid}/text"), "04-text-v1")
    for n, anchor in (("04b", "art-cessation.3"), ("04c", "art-water")):
        pk.page.locator(f"[id='p-{anchor}']").scroll_into_view_if_needed()
        shot(pk.page, f"{n}-text-{anchor}")

    # each party returns amendments in caucus with the mediators
    pk.go("/n/{nid}/amend")
    _edit(pk, "art-incidents.1", "seventy-two hours", "forty-eight hours")
    seen(pk.page, "05-amend-after-edit")
    shot(pk.page.locator("#preview-h"), "05b-amend-preview-heading")
    pk.page.locator("#preview-h").scroll_into_view_if_needed()
    shot(pk.page, "05c-amend-preview")
    expect(pk.page.locator("#main")).to_contain_text("forty-eight")
    # the page came back at the edited provision (its note has the focus); a refused edit's
    # field is marked and focused
    kept = pk.page.locator("[id='p-art-incidents.1'] .form-ok")
    expect(kept).to_contain_text("Kept:")
    expect(kept.get_by_role("link")).to_be_focused()
    details = pk.page.locator("[id='p-art-incidents.2'] details.edit-provision")
    details.locator("summary").click()
    area = details.locator("textarea[name=body]")
    area.fill(area.input_value() + " [unclosed")
    with _in_place(pk.page):
        details.get_by_role("button", name="Save this wording").click()
    refused = pk.page.locator("[id='body-art-incidents.2']")
    expect(refused).to_be_focused()
    expect(refused).to_have_attribute("aria-invalid", "true")
    accessible(pk.page, "an amendment refused")
    # leaving the page with changes not yet signed asks first; staying keeps them
    asked: list[str] = []

    def stay(dialog: Any) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    pk.page.once("dialog", stay)
    pk.page.get_by_role("link", name="Versions", exact=True).click(no_wait_after=True)
    assert asked == ["beforeunload"]  # the click returns once the browser asked and was answered
    expect(pk.page.locator("#main")).to_contain_text("forty-eight")
    form = pk.page.locator("form[data-move=amend]")
    # in mediated talks a return goes to the mediators unless the delegation says otherwise
    expect(form.get_by_label("Only the mediators (caucus)")).to_be_checked()
    pk.sign(form)
    # the page it lands on says what was just recorded
    expect(pk.page.locator(".recorded")).to_contain_text("Recorded: Return amended version")
    af.go("/n/{nid}/amend")
    _edit(af, "art-trade.1", "within seven days", "within forty-eight hours")
    # AF presses Back: it leaves the Amend page, not its last edit (and says so when asked);
    # coming back, its edit is offered again, and restored
    af.page.once("dialog", lambda dialog: dialog.accept())
    af.page.go_back()
    assert "/amend" not in af.page.url
    af.go("/n/{nid}/amend")
    restore = af.page.locator("#restore-edits")
    expect(restore).to_contain_text("1 change to this version, not yet signed, is kept")
    with _in_place(af.page):
        restore.get_by_role("button", name="Restore them").click()
    expect(af.page.locator("#main")).to_contain_text("within forty-eight hours")
    form = af.page.locator("form[data-move=amend]")
    form.get_by_label("Only the mediators (caucus)").check()
    af.sign(form)

    # AF cannot read PK's caucus return; TR integrates both
    af.go("/n/{nid}/versions")
    expect(af.page.locator("aside")).to_contain_text("confidential")
    page = tr.go("/n/{nid}/integrate")
    seen(tr.page, "06-integrate")
    # on a phone the returns' ids stay whole (they were squeezed to a letter a line)
    tr.page.set_viewport_size({"width": 390, "height": 844})
    ids = page.locator("label.inline .hash")
    wider = "e => { const r = e.getBoundingClientRect(); return r.width > r.height }"
    assert ids.count() == 2 and all(ids.nth(i).evaluate(wider) for i in range(2))
    shot(page.locator("fieldset").first, "06c-phone-integrate-returns")
    tr.page.set_viewport_size({"width": 1280, "height": 720})
    expect(page.locator("p.warning")).to_contain_text("is confidential (PK, QA, TR)")
    # a choice changed but not merged again is not what the prepare form would send
    page.locator("#merge-choices select[name^=decide-]").first.select_option("base")
    expect(page.locator("form[data-move=integrate] button[type=submit]")).to_be_disabled()
    # writing a compromise chooses it; merged again, the page shows it as the mediator's
    page = tr.go("/n/{nid}/integrate")
    page.locator("#merge-choices details.wording summary").first.click()
    wording = page.locator("#merge-choices textarea[name^=wording-]").first
    wording.fill(wording.input_value() + " As the mediators propose.")
    decision = page.locator(f"[id='{wording.get_attribute('data-decision')}']")
    expect(decision).to_have_value("own")
    page.get_by_role("button", name="Merge again with these choices").click()
    expect(page.locator("#merge-choices")).to_contain_text("reworded")
    expect(page.locator("#main")).to_contain_text("As the mediators propose.")
    shot(page.locator("#merge-choices table"), "06b-integrate-compromise")
    tr.go("/n/{nid}/integrate")
    tr.sign(tr.page.locator("form[data-move=integrate]"))
    assert tr.page.url.endswith("/versions")  # on to the new version, not the same returns
    expect(tr.go("/n/{nid}/integrate").locator("#main")).to_contain_text("No returned amendments")
    expect(tr.go("/n/{nid}").locator("#live")).to_contain_text("send version")

    # QA settles every bracket, option and reservation and proposes the clean text
    qa.go("/n/{nid}/versions")
    seen(qa.page, "07-versions-redline")
    qa.page.get_by_role("button", name="↓ Next change").click()
    shot(qa.page, "07b-versions-next-change")
    qa.go("/n/{nid}/versions?view=sides")
    shot(qa.page.locator("#redline"), "07c-versions-side-by-side")
    v2 = qa.page.locator("#new").input_value()
    qa.go(f"/n/{{nid}}/amend?base={v2}")
    assert _settle_everything(qa) >= 10
    seen(qa.page, "08-amend-settled")
    qa.sign(qa.page.locator("form[data-move=propose]"))
    form = qa.move("/n/{nid}/act", "send")
    form.get_by_label("PK").check()
    form.get_by_label("AF").check()
    qa.sign(form)
    expect(qa.go("/n/{nid}").locator("#live")).to_contain_text("Clean")

    # PK accepts firmly; AF ad referendum, then confirms
    pk.sign(pk.move("/n/{nid}/act", "accept"))
    # a move the rules refuse (409, but no stale envelope) is said as refused, not re-prepared
    form = pk.move("/n/{nid}/act", "accept")
    form.locator("button[type=submit]").click()
    form.locator("[data-sign]").click()
    expect(form.locator(".form-error")).to_contain_text("Not recorded")
    expect(form.locator(".form-error")).to_contain_text("already accepted")
    form = af.move("/n/{nid}/act", "accept")
    form.get_by_label("Accept ad referendum").check()
    af.sign(form)
    seen(af.go("/n/{nid}/act"), "09-moves-confirm")
    af.sign(af.move("/n/{nid}/act", "confirm"))

    # QA finalizes; the parties sign; QA and TR witness and endorse
    qa.sign(qa.move("/n/{nid}/act", "finalize"))
    pk.sign(pk.move("/n/{nid}/agreement", "sign"))
    seen(af.go("/n/{nid}/agreement"), "10-agreement-signing")
    af.sign(af.move("/n/{nid}/agreement", "sign"))
    qa.go("/n/{nid}/agreement")
    qa.sign(qa.page.locator("form[data-move=witness]").filter(has_text="PK's signature"))
    tr.go("/n/{nid}/agreement")
    tr.sign(tr.page.locator("form[data-move=witness]").filter(has_text="AF's signature"))
    qa.sign(qa.move("/n/{nid}/agreement", "endorse"))
    tr.sign(tr.move("/n/{nid}/agreement", "endorse"))

    page = pk.go("/n/{nid}/agreement")
    expect(page.locator("#main")).to_contain_text("the agreement is in force")
    seen(page, "11-agreement-in-force")
    assert pk.go("/n/{nid}").locator(".badge.phase-in_force").count() >= 1
    # QA may still attest AF's signature, which the policy no longer needs: offered, not asked
    expect(qa.go("/n/{nid}/agreement").locator("#do-h")).to_have_text("You may also")
    expect(qa.page.locator("form[data-move=witness]")).to_contain_text("beyond what")
    expect(pk.go("/n/{nid}/act").locator("#main")).not_to_contain_text("sent to you for review")
    expect(pk.go("/n/{nid}/amend").locator("#main")).to_contain_text("cannot amend or propose")
    assert pk.page.locator("details.edit-provision").count() == 0  # no editor to no purpose
    page = qa.go("/n/{nid}/integrate")
    expect(page.locator("#main")).to_contain_text("Integration is not open to you now")
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()  # in the negotiation
    _every_event_verifies_in_the_browser(table)
    _the_bundle_downloads_and_verifies(table, tmp_path)


def _every_event_verifies_in_the_browser(table: dict[str, Delegation]) -> None:
    page = table["AF"].go("/n/{nid}/audit")
    expect(page.locator("#chain-summary")).to_contain_text("verified in this browser")
    assert page.locator(".badge.failed").count() == 0
    expect(page.locator("#checkpoint-checks")).to_contain_text("signed by the log key")
    expect(page.locator("#checkpoint-checks")).to_contain_text("cosigned by log witness")
    page.get_by_role("button", name=re.compile("Check consistency")).click()
    expect(page.locator("#consistency-result")).to_contain_text("remembers this one")
    seen(page, "12-audit")
    _a_record_fetched_in_pages_is_checked_whole(page)
    _a_tampered_or_cut_record_fails_in_the_browser(page)


def _a_record_fetched_in_pages_is_checked_whole(page: Page) -> None:
    """The page asks for the record in pages (500 events at a time); made to ask for 4 at a
    time, it still checks every event, in order, from the charter on."""
    asked: list[str] = []
    page.route(re.compile(r"/api/negotiations/[0-9a-f]+/events\?"), lambda r: (
        asked.append(r.request.url), r.continue_()))  # fmt: skip
    page.route(re.compile(r"/n/[0-9a-f]+/audit$"), lambda r: r.fulfill(
        response=(fetched := r.fetch()),
        body=fetched.text().replace('data-page="500"', 'data-page="4"')))  # fmt: skip
    page.reload()
    total = page.locator("tr[data-seq]").count()
    expect(page.locator("#chain-summary")).to_have_text(
        f"All {total} events verified in this browser: every signature, and the hash chain "
        "from the charter on."
    )
    assert len(asked) == total // 4 + 1 and "since=4&limit=4" in asked[1]
    assert page.locator(".badge.verified").count() == total
    page.unroute_all()


def _a_tampered_or_cut_record_fails_in_the_browser(page: Page) -> None:
    """A server that changes one event's body, or withholds the last events, is caught."""
    events = re.compile(r"/api/negotiations/[0-9a-f]+/events\?")

    def served(change: Any) -> None:
        def handle(route: Any) -> None:
            response = route.fetch()
            data = response.json()
            change(data["events"])
            route.fulfill(response=response, json=data)

        page.unroute_all()
        page.route(events, handle)
        page.reload()

    served(lambda e: e[3].update(body={"text": "Not what was signed."}))
    expect(page.locator("#chain-summary")).to_contain_text("1 of")
    failures = page.locator("#chain-failures")
    expect(failures).to_have_text("✗ event 3: the body does not match its hash")
    expect(page.locator('tr[data-seq="3"] [data-badge]')).to_have_class(re.compile("failed"))
    served(lambda e: e.__delitem__(slice(-2, None)))
    expect(page.locator("#chain-summary")).to_contain_text("2 of")
    expect(page.locator("#chain-failures")).to_contain_text("the server did not give this event")
    page.unroute_all()


def _the_bundle_downloads_and_verifies(table: dict[str, Delegation], tmp_path: Path) -> None:
    pk = table["PK"]
    response = pk.page.request.get(pk.server.url + f"/n/{pk.nid}/bundle")
    assert response.ok
    path = tmp_path / "agreement.bundle.json"
    path.write_bytes(response.body())
    page = pk.go("/verify")
    page.set_input_files("#bundle-file", str(path))
    expect(page.locator("#bundle")).not_to_have_value("")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#report-h")).to_contain_text("Valid, and in force")
    seen(page, "13-verify-report")
    final = page.locator("details.final-text")
    final.locator("summary").click()  # the words the parties signed, read from the bundle alone
    expect(final.locator(".prov-body").first).to_be_visible()
    shot(final, "13b-verify-final-text")


def _seated(d: Delegation) -> Page:
    """Logged in and joined, whatever ran before (the tests may run in any order or process)."""
    d.log_in()
    return _join(d)


def _join(d: Delegation) -> Page:
    """Joined: the charter's hash signed in this delegation's own browser."""
    page = d.go("/n/{nid}/act")
    join = page.locator("form[data-move=join]")
    if join.count():
        # what joining accepts is shown, the conclusion policy in words included
        expect(join).to_contain_text("PK's signature is witnessed by at least 1 of")
        d.sign(join)
    return d.go("/n/{nid}/act")


def test_a_tampered_body_is_refused_and_said_so(table: dict[str, Delegation]) -> None:
    page = _seated(table["PK"])

    def swap(route: Any) -> None:
        data = route.request.post_data_json
        data["body"]["text"] = "We accept nothing."  # the signature covers the original hash
        route.continue_(post_data=__import__("json").dumps(data))

    page.route("**/api/negotiations/*/events", swap)
    form = page.locator("form[data-move=statement]")
    form.locator("textarea").fill("We welcome the agreement.")
    form.locator("button[type=submit]").click()
    form.locator("[data-sign]").click()
    expect(form.locator(".form-error")).to_contain_text("does not match")
    seen(page, "14-tampered-body-refused")
    page.unroute("**/api/negotiations/*/events")


def test_a_tampered_proposal_is_not_signed(table: dict[str, Delegation]) -> None:
    page = _seated(table["AF"])

    def swap(route: Any) -> None:
        response = route.fetch()
        data = response.json()
        data["body"]["text"] = "Something the delegation never read."
        route.fulfill(response=response, json=data)

    page.route("**/prepare/statement", swap)
    form = page.locator("form[data-move=statement]")
    form.locator("textarea").fill("A statement.")
    form.locator("button[type=submit]").click()
    form.locator("[data-sign]").click()
    expect(form.locator(".form-error")).to_contain_text("refusing to sign")
    page.unroute("**/prepare/statement")


def test_a_prepared_move_is_withdrawn_when_the_form_changes(table: dict[str, Delegation]) -> None:
    """A date corrected after preparing was signed as first prepared: the prepared move must go
    as soon as the form no longer says the same, and what is signed is what it says now."""
    tr = table["TR"]
    page = _seated(tr)
    form = page.locator("form[data-move=statement]")
    form.locator("textarea").fill("A statement with a typo.")
    form.locator("button[type=submit]").click()
    expect(form.locator(".proposal")).to_contain_text("A statement with a typo.")
    form.locator("textarea").fill("A statement without one.")
    expect(form.locator(".proposal")).to_be_hidden()
    expect(form.locator(".form-error")).to_contain_text("prepare it again")
    tr.sign(form)
    history = tr.page.request.get(tr.server.url + f"/api/negotiations/{tr.nid}/events").json()
    said = [e["body"]["text"] for e in history["events"] if e["envelope"]["type"] == "statement"]
    assert said[-1] == "A statement without one." and "A statement with a typo." not in said


def test_the_dashboard_updates_itself_and_never_goes_back_to_an_older_answer(
    table: dict[str, Delegation],
) -> None:
    """Two events in quick succession make two fetches of the dashboard's live part; the answer
    to the first may arrive last, and must not replace the newer one the page already shows."""
    pk, af = table["PK"], table["AF"]
    _seated(af)
    _seated(pk)
    page = pk.go("/n/{nid}")
    page.evaluate(
        """() => { window.shownLive = [];
        new MutationObserver(() => window.shownLive.push(document.querySelector('#live')
          .textContent.trim())).observe(document.querySelector('#live'), { childList: true }); }"""
    )
    held: list[Any] = []
    page.route(f"**/n/{pk.nid}/live", lambda route: held.append(route))

    def statement(text: str) -> None:
        with page.expect_request(f"**/n/{pk.nid}/live"):
            form = af.move("/n/{nid}/act", "statement")
            form.locator("textarea").fill(text)
            af.sign(form)

    statement("A first statement.")
    statement("A second statement.")
    assert len(held) == 2
    held[1].fulfill(body="<p>the newer answer</p>", content_type="text/html")
    expect(page.locator("#live")).to_have_text("the newer answer")
    with page.expect_event("requestfinished"):
        held[0].fulfill(body="<p>the older answer</p>", content_type="text/html")
    page.unroute(f"**/n/{pk.nid}/live")
    statement("A third statement.")  # answered by the server itself
    expect(page.locator("#live-note")).to_contain_text("was recorded")
    expect(page.locator("#live")).not_to_have_text("the newer answer")
    assert "the older answer" not in page.evaluate("window.shownLive")


def test_a_key_whose_session_ended_is_told_to_log_in_again(server: Server, browser: Any) -> None:
    """The home page said "You are not logged in… load it (or create one)" to a delegation
    whose key was in the browser and whose session had merely ended."""
    context = browser.new_context()
    d = Delegation(context, server, "AF")
    d.log_in()
    context.clear_cookies()
    page = d.go("/")
    expect(page.locator("#logged-out")).to_contain_text("AF's key is in this browser")
    expect(page.locator("#logged-out")).to_contain_text("Log in again")
    context.close()


def test_a_stranger_sees_nothing(server: Server, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "/keys")
    page.locator("#new-name").fill("XX")
    page.get_by_role("button", name="Create the key").click()
    expect(page.locator("#keys-ok")).to_contain_text("Created XX's key")
    page.goto(server.url + "/")
    expect(page.locator("#main")).to_contain_text("not a participant in any negotiation")
    title = "Ending Cross-Border Attacks"
    for path in ("", "/text", "/versions", "/agreement", "/audit", "/amend", "/bundle"):
        response = page.goto(f"{server.url}/n/{server.negotiation}{path}")
        assert response is not None and response.status == 404
        assert title not in page.content()
    seen(page, "15-stranger-404")
    response = page.goto(f"{server.url}/n/{'0' * 64}")
    assert response is not None and response.status == 404
    context.close()


def test_demo_keys_load_with_one_click_on_loopback_only(server: Server, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "/keys")
    expect(page.locator(".demo-banner")).to_contain_text("Demo mode")
    seen(page, "16-keys-demo")
    page.get_by_role("button", name="Act as AF").click()
    page.wait_for_url(server.url + "/")
    expect(page.locator("#main")).to_contain_text("Ending Cross-Border Attacks")
    context.close()
    remote = httpx.get(f"{server.url}/demo/keys/PK", headers={"Host": "parley.example"})
    assert remote.status_code == 404
    remote = httpx.get(f"{server.url}/keys", headers={"Host": "parley.example"})
    assert "Demo mode" not in remote.text


def test_on_a_phone_listings_stack_and_nothing_scrolls_sideways(
    server: Server, browser: Any
) -> None:
    """At 390 px each row of a listing is a card whose cells name their column, no page is
    wider than the screen, and each meets the accessibility rules as it does on a desktop."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    d = Delegation(context, server, "TR")
    _seated(d)
    for path in ("/", "/n/{nid}", "/n/{nid}/audit", "/n/{nid}/versions", "/n/{nid}/text"):
        page = d.go(path)
        wide = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert wide <= 0, f"{path} scrolls {wide} px sideways"
        accessible(page, f"{path} on a phone")
    page = d.go("/n/{nid}")
    cell = page.locator("table.stack td[data-label=Roles]").first
    assert cell.evaluate("c => getComputedStyle(c).display") == "block"
    label = cell.evaluate("c => getComputedStyle(c, '::before').content")
    assert label == '"Roles"'
    shot(page.locator("table.stack"), "16-phone-participants")
    d.go("/n/{nid}/audit")
    shot(d.page.locator("table.stack"), "17-phone-audit")
    context.close()
