"""tlog-policy files: the spec's example, every syntax rule with its line number, quorum logic."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.core import keys
from parley.core.tlogpolicy import evaluate, parse_policy
from parley.errors import InvalidInputError

LOG = keys.SigningKey.from_seed("example.com/log", bytes(range(32))).public()
W = {
    name: keys.SigningKey.from_seed(name, bytes([i + 1]) * 32, keys.COSIGNATURE_V1).public()
    for i, name in enumerate(["X1", "X2", "X3", "Y1", "Y2", "Y3"])
}

SPEC_EXAMPLE = f"""\
# the two-level example of c2sp.org/tlog-policy
log {LOG.vkey()} https://log.example/

witness X1 {W["X1"].vkey()}
witness X2 {W["X2"].vkey()}
witness X3 {W["X3"].vkey()}
group X-witnesses 2 X1 X2 X3

witness Y1 {W["Y1"].vkey()}
\twitness   Y2\t{W["Y2"].vkey()}   https://y2.example/witness
witness Y3 {W["Y3"].vkey()}
group Y-witnesses any Y1 Y2 Y3

   # indented comment
group X-and-Y all X-witnesses Y-witnesses
quorum X-and-Y
"""


def test_spec_example_parses() -> None:
    policy = parse_policy(SPEC_EXAMPLE.encode())
    assert policy.log_keys == (LOG,)
    assert policy.logs[0].url == "https://log.example/"
    assert [w.name for w in policy.witnesses] == ["X1", "X2", "X3", "Y1", "Y2", "Y3"]
    assert policy.witnesses[4].url == "https://y2.example/witness"
    assert [(g.name, g.k) for g in policy.groups] == [
        ("X-witnesses", 2),
        ("Y-witnesses", 1),
        ("X-and-Y", 2),
    ]
    assert policy.quorum == "X-and-Y"


@pytest.mark.parametrize(
    ("verified", "met"),
    [
        ({"X1", "X2", "Y3"}, True),
        ({"X1", "X2", "X3", "Y1", "Y2", "Y3"}, True),
        ({"X1", "Y1", "Y2"}, False),
        ({"X1", "X2"}, False),
        ({"Y1", "Y2", "Y3"}, False),
        (set(), False),
        ({"X1", "X2", "Y3", "stranger"}, True),
    ],
)
def test_quorum_evaluation(verified: set[str], met: bool) -> None:
    result = evaluate(parse_policy(SPEC_EXAMPLE), verified)
    assert result.satisfied is met
    assert result.explanation.startswith(f"quorum X-and-Y {'met' if met else 'not met'}")


def test_explanation_counts_each_group() -> None:
    result = evaluate(parse_policy(SPEC_EXAMPLE), {"X1", "Y2"})
    assert "X-witnesses: 1 of 3 witnessed, needs 2" in result.explanation
    assert "Y-witnesses: 1 of 3 witnessed, needs 1" in result.explanation
    assert "cosigned by X1, Y2" in result.explanation


def test_quorum_none_and_single_witness() -> None:
    none = parse_policy(f"log {LOG.vkey()}\nquorum none\n")
    assert evaluate(none, []).satisfied
    single = parse_policy(f"witness A {W['X1'].vkey()}\nquorum A\n")
    assert evaluate(single, ["A"]).satisfied
    assert not evaluate(single, ["B"]).satisfied
    assert single.logs == ()


def test_witness_names_map_keys_back_to_policy_names() -> None:
    policy = parse_policy(SPEC_EXAMPLE)
    assert policy.witness_names([W["X2"], W["Y1"], LOG]) == {"X2", "Y1"}


def test_a_key_counts_once() -> None:
    """The same key cannot be listed under two names to be counted twice."""
    text = f"witness A {W['X1'].vkey()}\nwitness B {W['X1'].vkey()}\n"
    with pytest.raises(InvalidInputError, match="duplicate witness key") as caught:
        parse_policy(text + "group G 2 A B\nquorum G\n")
    assert caught.value.line == 2
    renamed = keys.PublicKey("other-name", W["X1"].key, keys.COSIGNATURE_V1)
    with pytest.raises(InvalidInputError, match="duplicate witness key"):
        parse_policy(f"witness A {W['X1'].vkey()}\nwitness B {renamed.vkey()}\nquorum A\n")


V = W["X1"].vkey()
V2 = W["X2"].vkey()


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("", None, "no quorum"),
        ("# only a comment\n", None, "no quorum"),
        ("quorum A\n", 1, "not defined on an earlier line"),
        ("quorum none\nquorum none\n", 2, "exactly one quorum"),
        (f"witness A {V}\nquorum A B\n", 2, "expected 'quorum"),
        (f"group G any A\nwitness A {V}\nquorum G\n", 1, "not defined on an earlier line"),
        (f"witness A {V}\ngroup G any A A\nquorum G\n", 2, "listed twice"),
        (f"witness A {V}\ngroup G any none\nquorum G\n", 2, "not defined"),
        (f"witness A {V}\ngroup G 2 A\nquorum G\n", 2, "threshold must be in 1..1"),
        (f"witness A {V}\ngroup G 0 A\nquorum G\n", 2, "threshold must be in 1..1"),
        (f"witness A {V}\ngroup G 01 A\nquorum G\n", 2, "leading zeros"),
        (f"witness A {V}\ngroup G +1 A\nquorum G\n", 2, "leading zeros"),
        (f"witness A {V}\ngroup G some A\nquorum G\n", 2, "group threshold"),
        (f"witness A {V}\ngroup G any\nquorum G\n", 2, "expected 'group"),
        (f"witness A {V}\nwitness A {V2}\nquorum A\n", 2, "already defined"),
        (f"witness A {V}\ngroup A any A\nquorum A\n", 2, "already defined"),
        (f"witness none {V}\nquorum none\n", 1, "predefined"),
        ("witness A\nquorum none\n", 1, "expected 'witness"),
        (f"witness A {V} url extra\nquorum none\n", 1, "expected 'witness"),
        (f"witness A {LOG.vkey()}\nquorum none\n", 1, "type 0x04"),
        (f"log {V}\nquorum none\n", 1, "type 0x01"),
        (f"log {LOG.vkey()}\nlog {LOG.vkey()}\nquorum none\n", 2, "duplicate log key"),
        ("log\nquorum none\n", 1, "expected 'log"),
        ("log not-a-vkey\nquorum none\n", 1, "malformed vkey"),
        ("Quorum none\n", 1, "unknown keyword"),
        ("quorum none\r\n", 1, "U\\+000D"),
        ("quorum none\x7f\n", 1, "U\\+007F"),
        ("quorum\x0bnone\n", 1, "U\\+000B"),
    ],
)
def test_malformed_policies_name_the_line(text: str, line: int | None, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason) as caught:
        parse_policy(text)
    assert caught.value.line == line


def test_non_utf8_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="UTF-8"):
        parse_policy(b"# \xff\nquorum none\n")


def test_non_ascii_names_are_opaque_and_distinct() -> None:
    text = f"witness K {V}\nwitness \u212a {V2}\ngroup G all K \u212a\nquorum G\n"
    policy = parse_policy(text)
    assert not evaluate(policy, ["K"]).satisfied
    assert evaluate(policy, ["K", "\u212a"]).satisfied


def test_missing_final_newline_is_accepted() -> None:
    assert parse_policy("quorum none").quorum == "none"


def test_deeply_shared_groups_evaluate_in_one_pass() -> None:
    """Groups may share members; evaluation is one pass, not a walk of every path."""
    lines = [f"witness A {V}", f"witness B {V2}", "group G0 any A B", "group G1 all G0 A"]
    lines += [f"group G{i} all G{i - 1} G{i - 2}" for i in range(2, 200)]
    policy = parse_policy("\n".join([*lines, "quorum G199"]))
    assert evaluate(policy, ["A"]).satisfied
    assert not evaluate(policy, ["B"]).satisfied


NAMES = st.from_regex(r"[A-Za-z][A-Za-z0-9.\-]{0,8}", fullmatch=True).filter(lambda s: s != "none")


@given(names=st.lists(NAMES, min_size=1, max_size=6, unique=True), data=st.data())
def test_policies_round_trip(names: list[str], data: st.DataObject) -> None:
    lines = [f"log {LOG.vkey()}"]
    for i, name in enumerate(names):
        key = keys.SigningKey.from_seed(f"w{i}", bytes([i + 1]) * 32, keys.COSIGNATURE_V1)
        lines.append(f"witness {name} {key.public().vkey()}")
    k = data.draw(st.sampled_from(["all", "any", *[str(i) for i in range(1, len(names) + 1)]]))
    lines += [f"group grp {k} {' '.join(names)}", "quorum grp"]
    policy = parse_policy("\n".join(lines) + "\n")
    assert parse_policy(policy.to_text()) == policy
    chosen = data.draw(st.sets(st.sampled_from(names)))
    assert evaluate(policy, chosen).satisfied == (len(chosen) >= policy.groups[0].k)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_invalid_input(data: bytes) -> None:
    with contextlib.suppress(InvalidInputError):
        parse_policy(data)


@given(st.data())
def test_mutated_policies_raise_only_invalid_input(data: st.DataObject) -> None:
    raw = bytearray(SPEC_EXAMPLE.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        raw[at] = data.draw(st.sampled_from(list(b" \t\n#0123456789aenyl+/=")))
    with contextlib.suppress(InvalidInputError):
        policy = parse_policy(bytes(raw))
        evaluate(policy, data.draw(st.sets(st.sampled_from(list(W)))))
