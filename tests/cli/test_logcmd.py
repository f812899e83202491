"""parley key / note / proof / log evidence: exit codes, files, and one-line errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from parley.cli.main import main
from parley.core import checkpoint, cosignature, keys, merkle
from parley.core.checkpoint import Checkpoint
from parley.core.note import parse_note
from parley.core.tlogproof import TlogProof
from parley.core.witness import AddCheckpointRequest, MemoryWitnessState, Witness, add_checkpoint

LOG = keys.SigningKey.from_seed("example.com/log", bytes(range(32)))
W1 = keys.SigningKey.from_seed("witness.example/w1", b"\x01" * 32, keys.COSIGNATURE_V1)
ENTRIES = [b"event %d" % i for i in range(11)]


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, env=env)


def one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PARLEY_PASSPHRASE", raising=False)


# --- key -----------------------------------------------------------------------------------------


def test_key_new_writes_a_private_file_and_prints_the_vkey() -> None:
    result = run("key", "new", "example.com/pk")
    assert result.exit_code == 0, result.output
    path = Path("home/keys/example.com_pk.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    public = keys.key_file_vkey(path.read_bytes())
    assert result.stdout.strip() == public.vkey()
    assert run("key", "list").stdout.split() == ["example.com/pk", public.vkey()]
    assert public.type == keys.ED25519
    assert keys.read_key_file(path.read_bytes()).public() == public


def test_key_new_refuses_to_overwrite() -> None:
    assert run("key", "new", "pk", "-o", "k.key").exit_code == 0
    before = Path("k.key").read_bytes()
    assert "refusing to overwrite" in one_line_error(run("key", "new", "pk", "-o", "k.key"))
    assert Path("k.key").read_bytes() == before


def test_key_new_cosignature_type() -> None:
    result = run("key", "new", "witness.example/w9", "--type", "cosignature", "-o", "w.key")
    assert result.exit_code == 0
    assert keys.parse_vkey(result.stdout.strip()).type == keys.COSIGNATURE_V1
    shown = run("key", "show", "w.key")
    assert "type: cosignature" in shown.stdout


def test_key_new_with_a_passphrase_from_the_environment() -> None:
    env = {"PARLEY_PASSPHRASE": "correct horse"}
    result = run("key", "new", "pk", "-o", "k.key", "--passphrase", env=env)
    assert result.exit_code == 0
    data = Path("k.key").read_bytes()
    assert keys.is_encrypted(data) and b"PRIVATE" not in data
    assert keys.read_key_file(data, passphrase="correct horse").name == "pk"


def test_key_new_with_a_prompted_passphrase_asks_twice() -> None:
    result = run("key", "new", "pk", "-o", "k.key", "--passphrase", input="s3cret\ns3cret\n")
    assert result.exit_code == 0, result.output
    assert keys.read_key_file(Path("k.key").read_bytes(), passphrase="s3cret").name == "pk"


def test_key_new_rejects_a_bad_name() -> None:
    assert "spaces" in one_line_error(run("key", "new", "bad name"))


def test_key_show_prints_name_and_vkey() -> None:
    Path("k.key").write_bytes(keys.key_file_bytes(LOG))
    result = run("key", "show", "k.key")
    assert result.exit_code == 0
    assert f"name: {LOG.name}" in result.stdout
    assert f"vkey: {LOG.public().vkey()}" in result.stdout
    missing = run("key", "show", "missing.key")
    assert missing.exit_code == 3 and missing.stderr == "error: missing.key: no such file\n"
    Path("junk.key").write_text("{}", encoding="utf-8")
    assert "junk.key" in one_line_error(run("key", "show", "junk.key"))


# --- note ----------------------------------------------------------------------------------------


def test_note_sign_then_verify() -> None:
    Path("k.key").write_bytes(keys.key_file_bytes(LOG))
    Path("t.txt").write_text("We agree.\n\nSigned in Doha.\n", encoding="utf-8")
    assert run("note", "sign", "--key", "k.key", "t.txt", "-o", "t.note").exit_code == 0
    result = run("note", "verify", "--vkey", LOG.public().vkey(), "t.note")
    assert result.exit_code == 0
    assert "verified: example.com/log+" in result.stdout
    to_stdout = run("note", "sign", "--key", "k.key", "t.txt")
    assert to_stdout.stdout == Path("t.note").read_text(encoding="utf-8")


def test_note_sign_with_an_encrypted_key() -> None:
    sealed = keys.key_file_bytes(LOG, passphrase="pw", salt=b"s" * 16, nonce=b"n" * 12)
    Path("k.key").write_bytes(sealed)
    Path("t.txt").write_text("text\n", encoding="utf-8")
    ok = run("note", "sign", "--key", "k.key", "t.txt", env={"PARLEY_PASSPHRASE": "pw"})
    assert ok.exit_code == 0 and ok.stdout.startswith("text\n\n— example.com/log ")
    wrong = run("note", "sign", "--key", "k.key", "t.txt", env={"PARLEY_PASSPHRASE": "no"})
    assert "wrong passphrase" in one_line_error(wrong)


def test_note_sign_refuses_text_without_final_newline() -> None:
    Path("k.key").write_bytes(keys.key_file_bytes(LOG))
    Path("t.txt").write_text("no newline", encoding="utf-8")
    assert "newline" in one_line_error(run("note", "sign", "--key", "k.key", "t.txt"))


def test_note_verify_failures_exit_2_with_one_line() -> None:
    Path("k.key").write_bytes(keys.key_file_bytes(LOG))
    Path("t.txt").write_text("hello\n", encoding="utf-8")
    run("note", "sign", "--key", "k.key", "t.txt", "-o", "t.note")
    other = keys.SigningKey.from_seed("other", b"\x05" * 32).public().vkey()
    assert "no signature by a trusted key" in one_line_error(
        run("note", "verify", "--vkey", other, "t.note")
    )
    Path("bad.note").write_text(
        Path("t.note").read_text(encoding="utf-8").replace("hello", "hullo"), encoding="utf-8"
    )
    assert "does not verify" in one_line_error(
        run("note", "verify", "--vkey", LOG.public().vkey(), "bad.note")
    )
    assert "--vkey" in one_line_error(run("note", "verify", "--vkey", "nonsense", "t.note"))


# --- proof ---------------------------------------------------------------------------------------


def _proof_files(index: int = 4) -> str:
    hashes = merkle.MemoryHashes()
    hashes.extend(ENTRIES)
    cp = Checkpoint("example.com/log", hashes.size, hashes.root())
    signed = checkpoint.sign_checkpoint(cp, LOG).encode()
    signed += cosignature.cosign(cp.to_text(), W1, 1_700_000_000).encode()
    path = tuple(merkle.prove_inclusion(index, hashes.size, hashes))
    proof = TlogProof(index, path, parse_note(signed))
    Path("e.tlog-proof").write_bytes(proof.encode())
    policy = f"log {LOG.public().vkey()}\nwitness A {W1.public().vkey()}\nquorum A\n"
    Path("policy.txt").write_text(policy, encoding="utf-8")
    return merkle.leaf_hash(ENTRIES[index]).hex()


def test_proof_verify_with_log_key_and_with_policy() -> None:
    leaf = _proof_files()
    verify = ("proof", "verify", "e.tlog-proof", "--leaf-hash", leaf)
    ok = run(*verify, "--vkey", LOG.public().vkey())
    assert ok.exit_code == 0, ok.output
    assert "is entry 4 of example.com/log at tree size 11" in ok.stdout
    with_policy = run(*verify, "--policy", "policy.txt")
    assert with_policy.exit_code == 0, with_policy.output
    assert "quorum A met" in with_policy.stdout


def test_proof_verify_failures_exit_2() -> None:
    leaf = _proof_files()
    vkey = LOG.public().vkey()
    other = merkle.leaf_hash(b"other").hex()
    assert "inclusion proof" in one_line_error(
        run("proof", "verify", "e.tlog-proof", "--leaf-hash", other, "--vkey", vkey)
    )
    assert "64 hexadecimal" in one_line_error(
        run("proof", "verify", "e.tlog-proof", "--leaf-hash", "abc", "--vkey", vkey)
    )
    second = keys.SigningKey.from_seed("b", b"\x02" * 32, keys.COSIGNATURE_V1).public()
    Path("policy.txt").write_text(
        f"witness A {W1.public().vkey()}\nwitness B {second.vkey()}\ngroup G all A B\nquorum G\n",
        encoding="utf-8",
    )
    verify = ("proof", "verify", "e.tlog-proof", "--leaf-hash", leaf)
    unmet = run(*verify, "--vkey", vkey, "--policy", "policy.txt")
    assert "quorum G not met" in one_line_error(unmet)
    Path("policy.txt").write_text("quorum nobody\n", encoding="utf-8")
    bad_policy = run(*verify, "--policy", "policy.txt")
    assert "policy.txt, line 1" in one_line_error(bad_policy)


# --- witness evidence ----------------------------------------------------------------------------


def _evidence_file(fork: bool) -> None:
    honest = merkle.MemoryHashes()
    honest.extend(ENTRIES)
    forked = merkle.MemoryHashes()
    forked.extend(ENTRIES[:2] + [b"forged"] * 9)
    witness = Witness.create([W1], {"example.com/log": [LOG.public()]})
    state = MemoryWitnessState()

    def request(old: int, size: int, t: merkle.MemoryHashes) -> bytes:
        cp = Checkpoint("example.com/log", size, merkle.tree_hash(size, t))
        proof = tuple(merkle.prove_consistency(old, size, t)) if 0 < old < size else ()
        return AddCheckpointRequest(old, proof, checkpoint.sign_checkpoint(cp, LOG)).encode()

    assert add_checkpoint(witness, state, request(0, 5, honest), 1_700_000_000).status == 200
    outcome = add_checkpoint(
        witness, state, request(5, 11, forked if fork else honest), 1_700_000_001
    )
    if fork:
        assert outcome.evidence is not None
        Path("evidence.txt").write_bytes(outcome.evidence.encode())


def test_witness_evidence_verify_proves_misbehaviour() -> None:
    _evidence_file(fork=True)
    result = run("log", "evidence", "verify", "evidence.txt")
    assert result.exit_code == 0, result.output
    assert "signed two inconsistent checkpoints" in result.stdout
    assert "inconsistent-proof" in result.stdout
    pinned = run("log", "evidence", "verify", "evidence.txt", "--vkey", LOG.public().vkey())
    assert pinned.exit_code == 0


def test_witness_evidence_verify_refuses_what_proves_nothing() -> None:
    _evidence_file(fork=True)
    other = keys.SigningKey.from_seed("example.com/log", b"\x07" * 32).public().vkey()
    assert "evidence is about key" in one_line_error(
        run("log", "evidence", "verify", "evidence.txt", "--vkey", other)
    )
    Path("junk.txt").write_text("not evidence\n", encoding="utf-8")
    assert "must start with" in one_line_error(run("log", "evidence", "verify", "junk.txt"))
    absent = run("log", "evidence", "verify", "absent.txt")
    assert absent.exit_code == 3 and absent.stderr == "error: absent.txt: no such file\n"


def test_key_decrypt_writes_a_private_clear_copy() -> None:
    env = {"PARLEY_PASSPHRASE": "correct horse"}
    assert run("key", "new", "PK", "--passphrase", "-o", "pk.key", env=env).exit_code == 0
    result = run("key", "decrypt", "pk.key", "-o", "clear.key", env=env)
    assert result.exit_code == 0, result.output
    clear = Path("clear.key")
    assert stat.S_IMODE(clear.stat().st_mode) == 0o600
    assert not keys.is_encrypted(clear.read_bytes())
    assert keys.read_key_file(clear.read_bytes()).public() == keys.key_file_vkey(
        Path("pk.key").read_bytes()
    )
    assert "refusing to overwrite" in one_line_error(
        run("key", "decrypt", "pk.key", "-o", "clear.key", env=env)
    )


def test_remote_log_witnesses_are_added_checked_listed_and_required(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    assert run(*home, "log", "witness", "add", "qa").exit_code == 0
    vkey = W1.public().vkey()
    added = run(*home, "log", "witness", "add-remote", "un", vkey, "https://witness.un.example")
    assert added.exit_code == 0, added.output
    listed = run(*home, "log", "witness", "list").stdout.splitlines()
    assert listed[1:] == [f"un  {vkey}  https://witness.un.example"]
    assert listed[0].startswith("qa  ") and listed[0].endswith("  local")
    policy = run(*home, "log", "vkey").stdout
    assert f"witness un {vkey} https://witness.un.example\n" in policy
    assert "group witnesses all qa un\nquorum witnesses\n" in policy
    other = keys.SigningKey.from_seed("x/w", b"\x02" * 32, keys.COSIGNATURE_V1).public().vkey()
    # a fault of the witness typed is said as the witness's, not a line of the file's
    refused = {
        "no URL": (("un2", vkey, "witness.example"), "error: the witness to add: "),
        "a name taken": (("un", other, "https://x.example"), "remote-witnesses.policy"),
        "a local name": (("qa", other, "https://x.example"), "is a local log witness"),
        "a log key": (("un3", LOG.public().vkey(), "https://x.example"), "the witness to add"),
    }
    file = tmp_path / "home" / "log" / "remote-witnesses.policy"
    before = file.read_text()
    for why, (args, said) in refused.items():
        error = one_line_error(run(*home, "log", "witness", "add-remote", *args))
        assert said in error, (why, error)
    assert file.read_text() == before


def test_an_encrypted_log_key_is_opened_with_a_passphrase_asked_at_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PARLEY_PASSPHRASE", raising=False)
    log_key = tmp_path / "home" / "log" / "log.key"
    log_key.parent.mkdir(parents=True)
    log_key.write_bytes(
        keys.key_file_bytes(LOG, passphrase="capital", salt=b"s" * 16, nonce=b"n" * 12)
    )
    listed = CliRunner().invoke(
        main, ["--home", str(tmp_path / "home"), "negotiation", "list"], input="capital\n"
    )
    assert listed.exit_code == 0, listed.output


def test_the_operator_records_the_log_key_once(tmp_path: Path) -> None:
    home = ["--home", str(tmp_path / "home")]
    assert run(*home, "negotiation", "list").exit_code == 0  # a first start: key made, recorded
    again = run(*home, "log", "claim")
    assert again.exit_code == 0 and "this database's log is signed with" in again.stdout
    other = tmp_path / "other" / "log" / "log.key"
    other.parent.mkdir(parents=True)
    other.write_bytes(keys.key_file_bytes(LOG))
    database = f"sqlite:///{tmp_path / 'home' / 'parley.db'}"
    refused = run("--home", str(tmp_path / "other"), "--db", database, "log", "claim")
    assert refused.exit_code == 7 and "already recorded as signed with" in refused.stderr
    keyless = run("--home", str(tmp_path / "keyless"), "--db", database, "log", "claim")
    assert keyless.exit_code == 3 and "no log key" in keyless.stderr
