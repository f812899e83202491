"""A whole negotiation through the real command line, on the embedded SQLite store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from parley.cli import verifycmd
from parley.cli.main import main
from parley.core import bundle, textformat
from parley.core import text as text_model

TEXT = """Title: Agreement on Ending Cross-Border Attacks
Language: en

# Article 1 — Cessation of attacks {#art-1}

The Parties shall refrain from any cross-border attack.
"""

CHARTER = """
title = "Agreement on Ending Cross-Border Attacks"
pen = "mediator"

[[participant]]
code = "PK"
name = "Islamic Republic of Pakistan"
roles = ["party"]

[[participant]]
code = "AF"
name = "Islamic Emirate of Afghanistan"
roles = ["party"]

[[participant]]
code = "QA"
name = "State of Qatar"
roles = ["mediator", "witness", "guarantor"]

[[participant]]
code = "TR"
name = "Republic of Türkiye"
roles = ["mediator", "witness", "guarantor"]
"""


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, f"{args}: {result.output}"
    return result.stdout


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "draft.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "charter.toml").write_text(CHARTER, encoding="utf-8")
    return tmp_path


def test_a_whole_negotiation_from_the_command_line(workdir: Path) -> None:
    for code in ("PK", "AF", "QA", "TR"):
        ok("key", "new", code)
    ok("log", "witness", "add", "qa-log-witness")
    ok("log", "witness", "add", "tr-log-witness")
    assert "convened by QA" in ok("negotiation", "open", "charter.toml", "--as", "QA")
    for code in ("PK", "AF", "QA", "TR"):
        ok("join", "--as", code)
    version = ok("propose", "draft.txt", "--as", "QA").split("version ")[-1].strip()
    short = version[:8]
    stranger = run("send", short, "--to", "XX", "--as", "QA")
    assert stranger.exit_code == 4
    assert stranger.stderr == "error: XX: not in the charter (PK, AF, QA, TR)\n"
    early = run("sign", "--as", "PK")
    assert early.exit_code == 4 and "no final text to sign yet" in early.stderr
    past = run("send", short, "--to", "PK", "--deadline", "2020-01-01T12:00:00Z", "--as", "QA")
    assert past.exit_code == 2
    assert past.stderr.startswith("error: the deadline 1 January 2020, 12:00 UTC has passed")
    ok(
        "send",
        short,
        "--to",
        "PK",
        "--to",
        "AF",
        "--deadline",
        "2030-01-01T12:00:00Z",
        "--as",
        "QA",
    )
    status = json.loads(ok("status", "--json"))
    assert {t["code"] for t in status["todo"]} == {"PK", "AF"}
    ok("accept", short, "--as", "PK")
    ok("accept", short, "--ad-ref", "--as", "AF")
    refused = run("finalize", short, "--as", "QA")
    assert refused.exit_code == 4
    assert "not yet confirmed" in refused.stderr
    said = "[without prejudice] our territory will not be used against anyone."
    ok("statement", said, "--as", "AF")
    assert "[without" in ok("history")  # brackets are the delegation's words, not markup
    assert run("history", "--as", "XX").stderr == (
        "error: XX is not a participant of this negotiation\n"
    )
    ok("confirm", short, "--as", "AF")
    ok("finalize", short, "--as", "QA")
    early = run("witness", "PK", "--as", "QA")
    assert (
        early.exit_code != 0
        and early.stderr == "error: PK has not signed: there is nothing to witness\n"
    )
    typo = run("witness", "XX", "--as", "QA")
    assert typo.stderr == "error: XX is not a party (PK, AF) nor a sign event's hash\n"
    unsigned = run("bundle", "-o", "unsigned.json")  # a bundle may be made at any stage
    assert unsigned.exit_code == 0 and "VALID, BUT NOT (YET) IN FORCE as checked" in unsigned.stdout
    assert unsigned.stderr.startswith("note: ")  # what is missing, said at once
    ok("sign", "--as", "PK")
    ok("sign", "--as", "AF")
    ok("witness", "PK", "--as", "QA")
    ok("witness", "AF", "--as", "TR")
    ok("endorse", "--as", "QA")
    ok("endorse", "--as", "TR")
    assert json.loads(ok("status", "--json"))["phase"] == "in_force"
    written = ok("bundle", "-o", "agreement.json")
    assert ": VALID AND IN FORCE as checked here; anyone can check it with" in written
    report = run("verify", "agreement.json")
    assert report.exit_code == 0, report.output
    assert "VALID AND IN FORCE" in report.stdout
    assert "not binding" in report.stdout
    assert said in report.stdout  # the words as written: brackets are no markup
    assert f"Final text: version {version}\n" in report.stdout  # unbroken, though not a terminal
    _verify_with_what_the_checker_knows(workdir, report.stdout)


def _verify_with_what_the_checker_knows(workdir: Path, said: str) -> None:
    """The checker's own knowledge: the negotiation's id, the logs and witnesses they trust; and
    the agreed words, written out."""
    nid = said.split("Negotiation ")[1].split()[0]
    assert len(nid) == 64
    assert run("verify", "agreement.json", "--negotiation", nid[:16]).exit_code == 0
    other = run("verify", "agreement.json", "--negotiation", "0" * 16)
    assert other.exit_code == 2 and f"this is negotiation {nid}, not the one you expect" in (
        other.stdout
    )
    short = run("verify", "agreement.json", "--negotiation", nid[:8])
    assert short.exit_code == 2 and "16 to 64 hex digits" in short.stderr
    ok("verify", "agreement.json", "--text", "agreed.txt")
    agreed = textformat.parse((workdir / "agreed.txt").read_text(encoding="utf-8"))
    assert f"Final text: version {text_model.version_hash(agreed)}" in said
    (workdir / "empty.policy").write_text("")
    empty = run("verify", "agreement.json", "--policy", "empty.policy")
    assert empty.exit_code == 2 and empty.stderr.startswith("error: empty.policy")
    assert "INVALID" not in empty.stdout  # the checker's file is at fault, not the bundle
    _verify_refuses_what_would_mislead(workdir)


def _verify_refuses_what_would_mislead(workdir: Path) -> None:
    """Mistakes a checker makes with the command itself: each refused before anything is
    verified, with its own exit code, and the bundle left as it was."""
    kept = (workdir / "agreement.json").read_bytes()
    onto = run("verify", "agreement.json", "--text", "./agreement.json")
    assert onto.exit_code == 2 and "is the file being read" in onto.stderr and not onto.stdout
    assert (workdir / "agreement.json").read_bytes() == kept
    mixed = run("verify", "agreement.json", "--json", "--text", "-")
    assert mixed.exit_code == 2 and "would mix the text into the JSON" in mixed.stderr
    nowhere = run("verify", "agreement.json", "--text", "no/such/folder/agreed.txt")
    assert nowhere.exit_code == 2 and "does not exist" in nowhere.stderr and not nowhere.stdout
    absent = run("verify", "absent.json")
    assert absent.exit_code == 3 and absent.stderr == "error: absent.json: no such file\n"
    no_policy = run("verify", "agreement.json", "--policy", "absent.policy")
    assert no_policy.exit_code == 3 and no_policy.stderr == "error: absent.policy: no such file\n"
    with (workdir / "huge.json").open("wb") as huge:
        huge.truncate(bundle.MAX_BUNDLE_BYTES + 1)
    too_big = run("verify", "huge.json")
    assert too_big.exit_code == 2 and "larger than 67,108,864 bytes" in too_big.stderr
    (workdir / "-").write_bytes(kept)  # a file named '-' is that file, not standard input
    assert run("verify", "./-").exit_code == 0
    (workdir / "bad.json").write_bytes(kept.replace(b'"sign"', b'"sigh"', 1))
    bad = run("verify", "bad.json", "--text", "agreed-bad.txt")
    assert bad.exit_code == 2 and "the bundle is invalid: no text written" in bad.stderr
    assert not (workdir / "agreed-bad.txt").exists()


def _opened() -> None:
    """Keys for everyone, the charter convened by QA, and everyone joined: the talks are open."""
    for code in ("PK", "AF", "QA", "TR"):
        ok("key", "new", code)
    ok("negotiation", "open", "charter.toml", "--as", "QA")
    for code in ("PK", "AF", "QA", "TR"):
        ok("join", "--as", code)


def _clashing_returns(workdir: Path) -> tuple[str, list[str]]:
    """QA's draft sent to PK and AF, who return clashing deadlines: the draft and the returns."""
    _opened()
    draft = ok("propose", "draft.txt", "--as", "QA").split("version ")[-1].strip()
    ok("send", draft[:8], "--to", "PK", "--to", "AF", "--as", "QA")
    returns = []
    for code, words in (("PK", "any cross-border attack within 30 days"),
                        ("AF", "any cross-border attack within 90 days")):  # fmt: skip
        (workdir / f"{code}.txt").write_text(TEXT.replace("any cross-border attack", words))
        said = ok("amend", f"{code}.txt", "--base", draft[:8], "--everyone", "--as", code)
        returns.append(said.split("version ")[-1].split()[0].rstrip(":"))
    return draft, returns


def test_a_compromise_published_instead_of_the_merge_settles_the_clash(workdir: Path) -> None:
    _, returns = _clashing_returns(workdir)
    compromise = TEXT.replace("any cross-border attack", "any cross-border attack within 60 days")
    (workdir / "compromise.txt").write_text(compromise)
    said = run("integrate", *returns, "--text", "compromise.txt", "--as", "QA")
    assert said.exit_code == 0 and "0 conflict(s)" in said.stdout and said.stderr == ""
    events = json.loads(ok("history", "--json", "--as", "QA"))
    body = next(e["body"] for e in events if e["envelope"]["type"] == "integrate")
    assert [d["decision"] for d in body["decisions"]] == ["reworded"]
    # a long history's latest part, or from an event number on
    latest = json.loads(ok("history", "--json", "--as", "QA", "--last", "2"))
    assert latest == events[-2:]
    assert json.loads(ok("history", "--json", "--as", "QA", "--since", "3")) == events[3:]
    table = ok("history", "--as", "QA", "--last", "1")
    seq = events[-1]["envelope"]["seq"]
    assert f"│ {seq} " in table and "│ 0 " not in table and "integrate" in table
    assert run("history", "--last", "0").exit_code == 2


def test_returns_are_integrated_against_the_version_they_amend(workdir: Path) -> None:
    draft, returns = _clashing_returns(workdir)
    same = run("amend", "draft.txt", "--base", draft[:8], "--as", "PK")
    assert same.exit_code == 4 and "PK's amendment changes nothing in version" in same.stderr
    events = json.loads(ok("status", "--json"))["events"]
    # against AF's own return, PK's edit would read as the base's wording: AF's would be lost
    wrong = run("integrate", *returns, "--base", returns[1][:8], "--as", "QA")
    assert wrong.exit_code != 0 and "amends" in wrong.stderr and "not" in wrong.stderr
    assert json.loads(ok("status", "--json"))["events"] == events  # nothing stored
    said = run("integrate", *returns, "-o", "merged.txt", "--as", "QA")  # the base found
    assert said.exit_code == 0 and "1 conflict(s)" in said.stdout
    assert "wording — options: “30” and “90”" in said.stderr  # the words, not only the kind
    merged = (workdir / "merged.txt").read_text(encoding="utf-8")
    assert "within [[PK: 30 | AF: 90]] days" in merged


def test_acting_with_another_participants_key_is_refused(workdir: Path) -> None:
    for code in ("PK", "AF", "QA", "TR"):
        ok("key", "new", code)
    ok("negotiation", "open", "charter.toml", "--as", "QA")
    result = run("join", "--as", "PK", "--key", "home/keys/AF.key")
    assert result.exit_code == 2
    assert "not 'PK'" in result.stderr


def test_errors_are_one_line_and_coded(workdir: Path) -> None:
    result = run("status")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: no negotiation yet")


def test_an_empty_local_store_says_where_it_is_and_that_a_server_is_elsewhere(
    workdir: Path,
) -> None:
    hint = f"in the local store ({workdir / 'home'}; to work through a server: --server URL)"
    assert hint in run("status", "-n", "e673").stderr
    assert hint in run("status").stderr
    listed = run("negotiation", "list")
    assert listed.exit_code == 0 and listed.stdout == "" and hint in listed.stderr


def test_convening_names_the_charters_codes_and_the_next_command(workdir: Path) -> None:
    for code in ("PK", "AF", "QA", "TR"):
        ok("key", "new", code)
    mistyped = run("negotiation", "open", "chartre.toml", "--as", "QA")
    assert mistyped.exit_code == 3 and mistyped.stderr == "error: chartre.toml: no such file\n"
    assert not (workdir / "home" / "log").exists()  # nothing set up for a file not there
    typo = run("negotiation", "open", "charter.toml", "--as", "XX")
    assert typo.exit_code == 2
    assert typo.stderr == "error: XX is not in the charter (PK, AF, QA, TR): convene as one\n"
    opened = run("negotiation", "open", "charter.toml", "--as", "QA")
    said = opened.stdout
    nid = said.split()[1]
    assert f"every participant now joins: parley join -n {nid[:12]} --as CODE" in said
    assert "the agreement will be in force when:\n  - all of the following\n" in said
    assert "    - PK's signature is witnessed by at least 1 of QA, TR\n" in said
    # no log witness was added to this home: the convener is told what that means
    assert "this log has no log witnesses" in opened.stderr
    assert "parley log witness add" in opened.stderr
    stranger = run("join", "--as", "XX")
    assert stranger.exit_code == 4
    assert stranger.stderr == (
        "error: XX: not in the charter (PK, AF, QA, TR): act as one of them\n"
    )


def test_a_text_naming_a_code_outside_the_charter_is_refused(workdir: Path) -> None:
    """A bracket held by a typo could never be lifted, and a signed version is for good: the
    drafter is told before anything is recorded (it was recorded, with a note, before)."""
    _opened()
    typo = TEXT.replace("any cross-border attack", "any cross-border attack within [60]{PKK} days")
    (workdir / "typo.txt").write_text(typo, encoding="utf-8")
    said = run("propose", "typo.txt", "--as", "QA")
    assert said.exit_code == 2
    assert said.stderr == (
        "error: PKK: not in the charter (PK, AF, QA, TR): a bracket, an option or a reservation "
        "is held by a participant\n"
    )
    assert run("propose", "draft.txt", "--as", "QA").stderr == ""


def test_a_party_amends_with_brackets_of_its_own_only(workdir: Path) -> None:
    _opened()
    draft = ok("propose", "draft.txt", "--as", "QA").split("version ")[-1].strip()
    ok("send", draft[:8], "--to", "PK", "--as", "QA")
    for holder in ("AF", "PK"):
        words = f"any cross-border attack within [60]{{{holder}}} days"
        (workdir / f"{holder}.txt").write_text(TEXT.replace("any cross-border attack", words))
    theirs = run("amend", "AF.txt", "--base", draft[:8], "--as", "PK")
    assert theirs.exit_code == 2
    assert theirs.stderr == (
        "error: a bracket, option or reservation you add is yours (PK), not AF's: only the "
        "mediators attribute wording to others\n"
    )
    ok("amend", "PK.txt", "--base", draft[:8], "--as", "PK")
    # in mediated talks a return goes to the mediators unless its author says otherwise
    events = json.loads(ok("history", "--json", "--as", "QA"))
    returned = next(e["envelope"] for e in events if e["envelope"]["type"] == "amend")
    assert returned["audience"] == ["PK", "QA", "TR"]


def _returned_in_caucus(workdir: Path) -> tuple[str, str]:
    """The talks open, QA's draft sent, and PK's return to it in caucus: the two versions."""
    _opened()
    draft = ok("propose", "draft.txt", "--as", "QA").split("version ")[-1].strip()
    ok("send", draft[:8], "--to", "PK", "--to", "AF", "--as", "QA")
    (workdir / "PK.txt").write_text(TEXT.replace("any cross-border attack", "any attack"))
    said = ok("amend", "PK.txt", "--base", draft[:8], "--caucus", "--as", "PK")
    return draft, said.split("version ")[-1].split()[0].rstrip(":")


def test_a_comment_on_a_confidential_version_goes_only_to_its_readers(workdir: Path) -> None:
    """A public comment names the version's hash, against which anyone could test guesses of
    its text."""
    draft, secret = _returned_in_caucus(workdir)
    ok("comment", secret[:8], "art-1", "Could live with this.", "--as", "QA")
    ok("comment", draft[:8], "art-1", "Open to all.", "--as", "QA")
    events = json.loads(ok("history", "--json", "--as", "QA"))
    comments = [e["envelope"] for e in events if e["envelope"]["type"] == "comment"]
    amend = next(e["envelope"] for e in events if e["envelope"]["type"] == "amend")
    assert comments[0]["audience"] == amend["audience"] != "all"
    assert comments[1]["audience"] == "all"
    published = run("integrate", secret[:8], "--as", "QA")  # for everyone: PK's words go public
    assert published.exit_code == 0
    assert f"note: PK's return {secret[:8]}… is confidential (PK, QA, TR)" in published.stderr
    assert "readable by everyone" in published.stderr


def test_an_integration_kept_among_the_mediators_publishes_nothing(workdir: Path) -> None:
    _, secret = _returned_in_caucus(workdir)
    kept = run("integrate", secret[:8], "--caucus", "PK", "--as", "QA")
    assert kept.exit_code == 0 and "note:" not in kept.stderr
    events = json.loads(ok("history", "--json", "--as", "QA"))
    integrated = next(e["envelope"] for e in events if e["envelope"]["type"] == "integrate")
    assert integrated["audience"] == ["PK", "QA", "TR"]


def test_the_report_lists_the_latest_statements_unless_asked_for_every_one(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thousands of statements pushed the transparency log's checks out of sight."""
    monkeypatch.setattr(verifycmd, "STATEMENTS_SHOWN", 2)
    _opened()
    for n in range(3):
        ok("statement", f"Declaration number {n}.", "--as", "PK")
    ok("bundle", "-o", "talks.json")
    short = run("verify", "talks.json")
    assert "Statements (unilateral, not binding): the latest 2 of 3 (--statements lists" in (
        short.stdout
    )
    assert "Declaration number 0." not in short.stdout
    assert "Declaration number 2." in short.stdout and "Transparency log" in short.stdout
    every = run("verify", "talks.json", "--statements")
    assert "Statements (unilateral, not binding)\n" in every.stdout
    assert all(f"Declaration number {n}." in every.stdout for n in range(3))
    assert short.exit_code == every.exit_code == 1  # valid, not in force: the same verdict


def test_a_late_return_is_not_integrated_from_the_text_it_amends(workdir: Path) -> None:
    """QA integrated PK's return; AF returned the same draft later. An integration of AF's
    return from the draft would drop PK's edit without a conflict: refused, nothing stored, and
    the refusal says how to bring AF's edit into the current text."""
    draft, (pk, af) = _clashing_returns(workdir)
    first = ok("integrate", pk, "--as", "QA")
    current = first.split("version ")[1].split(":")[0]
    events = json.loads(ok("status", "--json"))["events"]
    late = run("integrate", af, "--as", "QA")
    assert late.exit_code == 4, late.output
    assert f"version {draft[:8]}… is no longer the current text: QA's integration made " in (
        late.stderr
    )
    assert f"--parent {current[:8]}" in late.stderr
    assert json.loads(ok("status", "--json"))["events"] == events  # nothing stored
    for name, version in (("base", draft), ("current", current), ("late", af)):
        ok("text", "version", version, "-o", f"{name}.txt")
    merged = run("merge", "base.txt", "current.txt", "late.txt", "--ours-label", "PK",
                 "--theirs-label", "AF", "-o", "merged.txt")  # fmt: skip
    assert merged.exit_code == 1  # the clash between PK's and AF's deadlines, as options
    assert "within [[PK: 30 | AF: 90]] days" in (workdir / "merged.txt").read_text()
    ok("propose", "merged.txt", "--parent", current[:8], "--as", "QA")


def test_paragraphs_two_delegations_add_without_ids_are_two_not_options(workdir: Path) -> None:
    """Each added a paragraph at the same place without an id: both got the id its place makes
    (art-1.1), and the merge offered them as two wordings of one paragraph. A return's new
    heading without an id is now marked as its delegation's."""
    _opened()
    draft = ok("propose", "draft.txt", "--as", "QA").split("version ")[-1].strip()
    ok("send", draft[:8], "--to", "PK", "--to", "AF", "--as", "QA")
    returns = []
    for code, words in (
        ("PK", "Each Party names a focal point."),
        ("AF", "Incidents are reported."),
    ):
        (workdir / f"{code}.txt").write_text(TEXT + f"\n## 1.\n\n{words}\n")
        said = ok("amend", f"{code}.txt", "--base", draft[:8], "--everyone", "--as", code)
        returns.append(said.split("version ")[-1].split()[0])
    ok("integrate", *returns, "-o", "merged.txt", "--as", "QA")
    merged = (workdir / "merged.txt").read_text(encoding="utf-8")
    assert "{#art-1.1-pk}" in merged and "{#art-1.1-af}" in merged and "[[" not in merged
    assert "Each Party names a focal point." in merged and "Incidents are reported." in merged
