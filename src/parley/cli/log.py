"""Commands for keys, signed notes, tlog proofs and log-witness evidence.

    parley key new NAME [-o FILE] [--passphrase] [--type ed25519|cosignature]
    parley key show FILE
    parley note sign --key KEYFILE FILE [-o OUT]
    parley note verify --vkey VKEY [--vkey ...] FILE
    parley proof verify PROOF_FILE --leaf-hash HEX [--vkey LOG_VKEY] [--policy POLICY_FILE]
    parley log evidence verify FILE [--vkey LOG_VKEY]

Every verifying command exits 0 when the input verifies and 2 when it does not, with the reason
on one line (through ``parley.cli.errors.reported``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from parley.cli.errors import reported
from parley.cli.files import read_bytes
from parley.cli.home import (
    PASSPHRASE_ENV,
    Home,
    new_key,
    passphrase,
    write_secret,
)
from parley.core import keys, note, tlogpolicy, tlogproof, witness
from parley.errors import InvalidInputError

KEY_TYPES = {"ed25519": keys.ED25519, "cosignature": keys.COSIGNATURE_V1}

_HEX_HASH = re.compile(r"[0-9a-fA-F]{64}")


# --- file and option helpers ---------------------------------------------------------------------


def _write(path: str | None, data: bytes) -> None:
    """Write to ``path``, or to standard output when None or '-'."""
    if path in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise InvalidInputError(f"cannot write {path}: {exc.strerror}") from exc


def _vkey(text: str) -> keys.PublicKey:
    try:
        return keys.parse_vkey(text)
    except InvalidInputError as exc:
        raise InvalidInputError(f"--vkey: {exc}") from exc


def _leaf_hash(text: str) -> bytes:
    if not _HEX_HASH.fullmatch(text):
        raise InvalidInputError("--leaf-hash must be 64 hexadecimal digits (a SHA-256 hash)")
    return bytes.fromhex(text)


def _load_key(path: str) -> keys.SigningKey:
    data = read_bytes(path)
    phrase = passphrase(confirm=False) if keys.is_encrypted(data) else None
    try:
        return keys.read_key_file(data, passphrase=phrase)
    except InvalidInputError as exc:
        raise exc.with_source(path) from exc


# --- parley key ----------------------------------------------------------------------------------


@click.group("key")
def key_group() -> None:
    """Create and inspect key files (Ed25519 note keys and log-witness cosignature keys)."""


@key_group.command("new")
@click.argument("name")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Key file to create.")
@click.option(
    "--passphrase/--no-passphrase",
    default=False,
    help=f"Encrypt the key file (passphrase from ${PASSPHRASE_ENV} or a prompt).",
)
@click.option(
    "--type",
    "key_type",
    type=click.Choice(sorted(KEY_TYPES)),
    default="ed25519",
    help="ed25519: signs notes and checkpoints; cosignature: a log witness key.",
)
@click.pass_obj
def key_new(home: Home, name: str, output: str | None, passphrase: bool, key_type: str) -> None:
    """Create a key file (mode 0600) and print its vkey.

    By default the file is keys/NAME.key in PARLEY_HOME, where ``--as NAME`` finds it.
    """
    with reported():
        path = Path(output) if output else home.keys_dir / _default_key_file(name)
        if path.exists():  # checked early to spare a passphrase prompt; O_EXCL decides
            raise InvalidInputError(f"{path} already exists; refusing to overwrite a key")
        key = new_key(path, name, KEY_TYPES[key_type], encrypt=passphrase)
        click.echo(key.public().vkey())
        click.echo(f"wrote {path}", err=True)


@key_group.command("list")
@click.pass_obj
def key_list(home: Home) -> None:
    """The key files in PARLEY_HOME/keys: name and vkey (no passphrase needed)."""
    with reported():
        for path in sorted(home.keys_dir.glob("*.key")):
            public = keys.key_file_vkey(read_bytes(path))
            click.echo(f"{public.name:<12} {public.vkey()}")


def _default_key_file(name: str) -> str:
    """A file name from the key name: characters other than letters, digits, '.', '-' become '_'."""
    return re.sub(r"[^A-Za-z0-9.\-]", "_", name) + ".key"


@key_group.command("decrypt")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The unencrypted copy to create (mode 0600; never overwritten).")  # fmt: skip
def key_decrypt(file: str, output: str) -> None:
    """Write an unencrypted copy of an encrypted key file, to import it into a browser.

    The copy holds the private key in the clear: import it, then delete it.
    """
    with reported():
        key = _load_key(file)
        write_secret(Path(output), keys.key_file_bytes(key))
        click.echo(f"wrote {output}: import it into the browser, then delete it", err=True)


@key_group.command("show")
@click.argument("file")
@click.pass_obj
def key_show(home: Home, file: str) -> None:
    """Print a key file's name and vkey (FILE, or a key name in PARLEY_HOME/keys)."""
    with reported():
        if not Path(file).exists() and home.key_file(file).exists():
            file = str(home.key_file(file))
        data = read_bytes(file)
        try:
            public = keys.key_file_vkey(data)
        except InvalidInputError as exc:
            raise exc.with_source(file) from exc
        kind = "ed25519" if public.type == keys.ED25519 else "cosignature"
        click.echo(f"name: {public.name}")
        click.echo(f"vkey: {public.vkey()}")
        click.echo(f"type: {kind}{' (encrypted)' if keys.is_encrypted(data) else ''}")


# --- parley note ---------------------------------------------------------------------------------


@click.group("note")
def note_group() -> None:
    """Sign and verify signed notes (c2sp.org/signed-note)."""


@note_group.command("sign")
@click.option("--key", "key_file", required=True, help="Key file of an Ed25519 key.")
@click.argument("file")
@click.option("-o", "--output", help="Write the signed note here (default: standard output).")
def note_sign(key_file: str, file: str, output: str | None) -> None:
    """Sign the text in FILE (UTF-8, ending in a newline) as a note."""
    with reported():
        key = _load_key(key_file)
        data = read_bytes(file)
        try:
            text = note.decode(data, "note text")
            signed = note.sign_note(text, [key])
        except InvalidInputError as exc:
            raise exc.with_source(file) from exc
        _write(output, signed.encode())


@note_group.command("verify")
@click.option("--vkey", "vkeys", multiple=True, required=True, help="A trusted verifier key.")
@click.argument("file")
def note_verify(vkeys: tuple[str, ...], file: str) -> None:
    """Verify a signed note: exit 0 if valid, 2 if not (with the reason)."""
    with reported():
        opened = note.open_note(read_bytes(file), [_vkey(v) for v in vkeys])
        for sig in opened.verified:
            click.echo(f"verified: {sig.name}+{sig.key_id_hex}")
        for sig in opened.unverified:
            click.echo(f"unknown key (not checked): {sig.name}+{sig.key_id_hex}")


# --- parley proof --------------------------------------------------------------------------------


@click.group("proof")
def proof_group() -> None:
    """Check offline proofs of logging (c2sp.org/tlog-proof)."""


@proof_group.command("verify")
@click.argument("proof_file")
@click.option("--leaf-hash", required=True, help="The entry's RFC 6962 leaf hash, in hex.")
@click.option("--vkey", help="The log's vkey (default: the logs of --policy).")
@click.option("--policy", "policy_file", help="A tlog-policy file: witnesses and quorum.")
def proof_verify(
    proof_file: str, leaf_hash: str, vkey: str | None, policy_file: str | None
) -> None:
    """Verify a .tlog-proof file for a leaf: exit 0 if valid, 2 if not."""
    with reported():
        policy = None
        if policy_file is not None:
            try:
                policy = tlogpolicy.parse_policy(read_bytes(policy_file))
            except InvalidInputError as exc:
                raise exc.with_source(policy_file) from exc
        log_key = _vkey(vkey) if vkey is not None else None
        report = tlogproof.verify_proof(
            read_bytes(proof_file), _leaf_hash(leaf_hash), log_key, policy
        )
        for line in report.lines():
            click.echo(line)


# --- parley log evidence -------------------------------------------------------------------------


@click.group("evidence")
def evidence_group() -> None:
    """Evidence that a log signed two inconsistent checkpoints."""


@evidence_group.command("verify")
@click.argument("file")
@click.option("--vkey", help="The log's vkey; the evidence must be about this key.")
def evidence_verify(file: str, vkey: str | None) -> None:
    """Exit 0 if FILE proves the log misbehaved, 2 if it does not."""
    with reported():
        log_key = _vkey(vkey) if vkey is not None else None
        report = witness.verify_evidence(read_bytes(file), log_key)
        for line in report.lines():
            click.echo(line)
        if log_key is None:
            click.echo("note: the key is the one named in the evidence; check it is the log's")


COMMANDS: list[click.Command] = [key_group, note_group, proof_group]
"""``evidence_group`` joins the ``parley log`` group (see ``parley.cli.records``)."""
