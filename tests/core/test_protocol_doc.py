"""docs/protocol.md and the rules table in the code say the same thing."""

from __future__ import annotations

from pathlib import Path

from parley.core.protocol import NEEDS_BODY, NEXT_PHASE, RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def _rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] not in {"move", "---"}:
            rows[cells[0]] = cells
    return rows


def test_every_move_is_documented_exactly() -> None:
    rows = _rows()
    assert set(rows) == {m.value for m in RULES}
    for move, rule in RULES.items():
        _, phases, who, audience, body, nxt, summary = rows[move.value]
        assert phases == ", ".join(sorted(p.value for p in rule.phases)), move
        expected_who = "any participant" if rule.roles is None else ", ".join(sorted(rule.roles))
        assert who == expected_who, move
        assert audience == ("all" if rule.public else "all or a caucus"), move
        assert body == ("yes" if move in NEEDS_BODY else "no"), move
        assert nxt == NEXT_PHASE.get(move, "—"), move
        assert summary == rule.summary, move
