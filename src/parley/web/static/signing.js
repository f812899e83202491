// Parley in the browser: canonical bytes, hashes and Ed25519 signatures made on this device.
//
// * canonical JSON is RFC 8785 for the values Parley signs (no floats; object keys sorted by
//   UTF-16 code units; strings must be NFC), prefixed by a domain tag and a newline, exactly as
//   parley.core.canonical.tagged makes it;
// * private keys are non-extractable WebCrypto CryptoKeys kept in IndexedDB: the page can ask
//   this browser to sign with them, but nobody (not the server, not this script) can read them;
// * every move is prepared by the server (envelope + body), checked here (the body hash is
//   recomputed from the body that was shown), signed here, and posted to the API.

export const Tag = Object.freeze({
  TEXT: "parley/v1/text",
  CHARTER: "parley/v1/charter",
  EVENT: "parley/v1/event",
  SIGNED_EVENT: "parley/v1/signed-event",
  BODY: "parley/v1/body",
  LOGIN: "parley/v1/login",
});

const ED25519 = 0x01;
const COSIGNATURE = 0x04;
const KEY_FILE_FORMAT = "parley/key/v1";
const CODE_RE = /^[A-Z][A-Z0-9]{1,15}$/;
const ALGORITHM = { name: "Ed25519" };

export class ParleyError extends Error {}

// --- canonical bytes ------------------------------------------------------------------------

export function canonical(value) {
  return serialize(value, "$");
}

function serialize(value, path) {
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number") return integer(value, path);
  if (typeof value === "string") return string(value, path);
  if (Array.isArray(value)) return "[" + value.map((v, i) => serialize(v, `${path}[${i}]`)).join(",") + "]";
  if (typeof value === "object") return object(value, path);
  throw new ParleyError(`${path}: a ${typeof value} cannot appear in signed data`);
}

function integer(value, path) {
  if (!Number.isSafeInteger(value)) {
    throw new ParleyError(`${path}: only integers within ±2^53-1 may be signed, found ${value}`);
  }
  return String(value);
}

function string(value, path) {
  if (!value.isWellFormed()) throw new ParleyError(`${path}: text holds an unpaired surrogate`);
  if (value.normalize("NFC") !== value) throw new ParleyError(`${path}: text must be Unicode NFC`);
  return JSON.stringify(value);
}

function object(value, path) {
  const keys = Object.keys(value).sort(); // default sort: by UTF-16 code units, as RFC 8785
  const parts = keys.map((k) => string(k, path) + ":" + serialize(value[k], `${path}.${k}`));
  return "{" + parts.join(",") + "}";
}

export function utf8(text) {
  return new TextEncoder().encode(text);
}

export function tagged(tag, value) {
  return utf8(tag + "\n" + canonical(value));
}

export async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text) {
  if (!/^(?:[0-9a-f]{2})*$/.test(text)) throw new ParleyError("expected lowercase hex digits");
  return Uint8Array.from(text.match(/../g) || [], (h) => parseInt(h, 16));
}

export function base64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(text, what) {
  let raw;
  try {
    raw = atob(text);
  } catch {
    throw new ParleyError(`${what}: invalid base64`);
  }
  const bytes = Uint8Array.from(raw, (c) => c.charCodeAt(0));
  if (base64(bytes) !== text) throw new ParleyError(`${what}: base64 is not in canonical form`);
  return bytes;
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function hexDigest(tag, value) {
  return hex(await sha256(tagged(tag, value)));
}

// --- keys -----------------------------------------------------------------------------------

export async function keyId(name, type, publicKey) {
  const digest = await sha256(concat(utf8(name + "\n"), Uint8Array.of(type), publicKey));
  return hex(digest.slice(0, 4));
}

export async function parseVkey(vkey) {
  const m = /^([^+]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(vkey || "");
  if (!m) throw new ParleyError("malformed vkey: expected <name>+<hex8 id>+<base64 key>");
  const [, name, id, b64] = m;
  const raw = fromBase64(b64, "vkey key");
  if (raw.length !== 33 || (raw[0] !== ED25519 && raw[0] !== COSIGNATURE)) {
    throw new ParleyError(`vkey ${name}: expected a type byte and 32 key bytes`);
  }
  const publicKey = raw.slice(1);
  if ((await keyId(name, raw[0], publicKey)) !== id) {
    throw new ParleyError(`vkey ${name}: the key id ${id} does not match the key`);
  }
  return { name, id, type: raw[0], publicKey, vkey };
}

export async function vkeyOf(name, publicKey) {
  const id = await keyId(name, ED25519, publicKey);
  return `${name}+${id}+${base64(concat(Uint8Array.of(ED25519), publicKey))}`;
}

export function verifierKey(publicKey) {
  return crypto.subtle.importKey("raw", publicKey, ALGORITHM, false, ["verify"]);
}

const PKCS8_ED25519 = fromHex("302e020100300506032b657004220420");

async function importSeed(seed) {
  const der = concat(PKCS8_ED25519, seed);
  try {
    return await crypto.subtle.importKey("pkcs8", der, ALGORITHM, false, ["sign"]);
  } finally {
    der.fill(0);
  }
}

function parseSkey(skey) {
  const parts = String(skey).split("+");
  if (parts.length < 5 || parts[0] !== "PRIVATE" || parts[1] !== "KEY") {
    throw new ParleyError("malformed signer key: expected PRIVATE+KEY+<name>+<id>+<key>");
  }
  const raw = fromBase64(parts.slice(4).join("+"), "signer key");
  if (raw.length !== 33 || raw[0] !== ED25519) {
    throw new ParleyError("the signer key must be an Ed25519 key (type 0x01) with a 32-byte seed");
  }
  return { name: parts[2], id: parts[3], seed: raw.slice(1) };
}

export function checkCode(name) {
  if (!CODE_RE.test(name)) {
    throw new ParleyError(
      "a delegation's key is named after its code: 2–16 upper-case letters or digits, e.g. PK",
    );
  }
}

// Import a Parley key file (parley/key/v1) as a non-extractable key; the seed is wiped after.
export async function importKeyFile(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ParleyError("this file is not JSON, so it is not a Parley key file");
  }
  if (!doc || doc.format !== KEY_FILE_FORMAT) {
    throw new ParleyError(`this is not a Parley key file (expected format ${KEY_FILE_FORMAT})`);
  }
  if ("encrypted" in doc) {
    throw new ParleyError(
      "this key file is encrypted with a passphrase. The browser does not take passphrases: " +
        "decrypt it on your own computer first (parley key decrypt FILE -o COPY), import the " +
        "copy here, then delete it.",
    );
  }
  const secret = parseSkey(doc.skey);
  const pub = await parseVkey(doc.vkey);
  if (pub.name !== secret.name || pub.id !== secret.id || pub.type !== ED25519) {
    throw new ParleyError("key file: the vkey does not match the secret key");
  }
  const privateKey = await importSeed(secret.seed);
  secret.seed.fill(0);
  await proveMatch(privateKey, pub.publicKey);
  return { name: pub.name, vkey: pub.vkey, keyId: pub.id, privateKey };
}

async function proveMatch(privateKey, publicKey) {
  const probe = utf8("parley/v1/key-check\n");
  const signature = await crypto.subtle.sign(ALGORITHM, privateKey, probe);
  const ok = await crypto.subtle.verify(ALGORITHM, await verifierKey(publicKey), signature, probe);
  if (!ok) throw new ParleyError("key file: the vkey does not match the secret key");
}

export async function generateKey(name) {
  checkCode(name);
  const pair = await crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const vkey = await vkeyOf(name, publicKey);
  return { name, vkey, keyId: vkey.split("+")[1], privateKey: pair.privateKey };
}

export async function sign(record, bytes) {
  return new Uint8Array(await crypto.subtle.sign(ALGORITHM, record.privateKey, bytes));
}

// --- key storage: IndexedDB (keys), localStorage (which one is in use) -----------------------

const DB = "parley-keys";
const STORE = "keys";
const ACTIVE = "parley.activeKey";

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "vkey" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new ParleyError("this browser refused to open its key store"));
  });
}

async function withStore(mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const req = work(tx.objectStore(STORE));
    tx.oncomplete = () => resolve(req.result);
    tx.onerror = () => reject(new ParleyError("this browser's key store failed"));
  });
}

export async function saveKey(record) {
  const stored = { ...record, added: new Date().toISOString() };
  await withStore("readwrite", (s) => s.put(stored));
  localStorage.setItem(ACTIVE, record.vkey);
  return stored;
}

export function listKeys() {
  return withStore("readonly", (s) => s.getAll());
}

export async function activeKey() {
  const vkey = localStorage.getItem(ACTIVE);
  if (!vkey) return null;
  return (await withStore("readonly", (s) => s.get(vkey))) || null;
}

export function useKey(vkey) {
  localStorage.setItem(ACTIVE, vkey);
}

export async function forgetKey(vkey) {
  await withStore("readwrite", (s) => s.delete(vkey));
  if (localStorage.getItem(ACTIVE) === vkey) localStorage.removeItem(ACTIVE);
}

// --- talking to the API ---------------------------------------------------------------------

async function postJson(url, data) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(data),
    credentials: "same-origin",
  });
  return { response, data: await readJson(response) };
}

async function readJson(response) {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text || response.statusText };
  }
}

export function problem(data, status) {
  if (data && data.error && typeof data.error.message === "string") return data.error.message;
  const d = data && (data.detail ?? data.error ?? data.message);
  if (typeof d === "string" && d) return d;
  if (d && typeof d === "object") return d.message || d.msg || JSON.stringify(d);
  return `the server answered ${status}`;
}

// Log in with the key: the server's challenge is signed with this browser's key.
export async function login(record) {
  const first = await postJson("/api/login/challenge", { vkey: record.vkey });
  if (!first.response.ok) throw new ParleyError(problem(first.data, first.response.status));
  const challenge = first.data.challenge;
  if (first.data.server && first.data.server !== location.origin) {
    throw new ParleyError(
      `this server signs logins for ${first.data.server}, but this page was reached at ` +
        `${location.origin}: refusing to sign a login meant for another address`,
    );
  }
  const statement = { server: location.origin, challenge, vkey: record.vkey };
  const signature = base64(await sign(record, tagged(Tag.LOGIN, statement)));
  const second = await postJson("/api/login", { vkey: record.vkey, challenge, signature });
  if (!second.response.ok) throw new ParleyError(problem(second.data, second.response.status));
  return second.data;
}

export async function logout() {
  await fetch("/api/logout", { method: "POST", credentials: "same-origin" }).catch(() => null);
}

// Check what the server proposes, then sign it: the body hash is recomputed here from the body
// that was shown, and the envelope must be the move this page asked for, by this key.
export async function checkProposal(proposal, expect) {
  const { envelope, body } = proposal;
  for (const [field, wanted] of Object.entries(expect)) {
    if (wanted !== undefined && wanted !== null && envelope[field] !== wanted) {
      throw new ParleyError(
        `refusing to sign: the envelope's ${field} is ${JSON.stringify(envelope[field])}, ` +
          `expected ${JSON.stringify(wanted)}`,
      );
    }
  }
  const bodyHash = await hexDigest(Tag.BODY, body);
  if (bodyHash !== envelope.body) {
    throw new ParleyError(
      "refusing to sign: the envelope's body hash is not the hash of the body shown " +
        `(${envelope.body.slice(0, 12)}… against ${bodyHash.slice(0, 12)}…)`,
    );
  }
  return bodyHash;
}

export async function signEvent(record, envelope) {
  return base64(await sign(record, tagged(Tag.EVENT, envelope)));
}

export async function submitEvent(negotiation, event) {
  const url = `/api/negotiations/${encodeURIComponent(negotiation)}/events`;
  return postJson(url, event);
}

// A charter is checked as every move is, and more: its hash is the negotiation id the envelope
// names, it is the first event, and this browser's key is a mediator's key in it.
export async function checkCharter(proposal, record) {
  const { envelope, body } = proposal;
  const negotiation = await hexDigest(Tag.CHARTER, body);
  const me = (body.participants || []).find((p) => (p.keys || []).includes(record.vkey));
  if (!me || !(me.roles || []).includes("mediator")) {
    throw new ParleyError("refusing to sign: this browser's key is not a mediator's key in the charter shown");
  }
  if (envelope.seq !== 0 || envelope.prev !== null) {
    throw new ParleyError("refusing to sign: a charter is the first event, with nothing before it");
  }
  await checkProposal(proposal, { negotiation, type: "charter", author: me.code, key: record.keyId });
  return negotiation;
}

export async function submitCharter(event) {
  return postJson("/api/negotiations", event);
}

// --- verifying the record -------------------------------------------------------------------

export async function eventHash(envelope, signature) {
  return hexDigest(Tag.SIGNED_EVENT, { envelope, signature });
}

async function charterKeys(charter) {
  const keys = new Map();
  for (const p of charter.participants || []) {
    for (const vkey of p.keys || []) {
      const parsed = await parseVkey(vkey);
      keys.set(`${p.code}/${parsed.id}`, await verifierKey(parsed.publicKey));
    }
  }
  return keys;
}

// Verify every event of a negotiation: signatures with the charter's keys, and the hash chain.
// Checks a negotiation's events in order, as they arrive (a long record comes in pages): the
// first must be the charter this negotiation's id names, each later one must continue the chain.
export class ChainCheck {
  constructor(negotiation) {
    this.negotiation = negotiation;
    this.keys = null;   // the charter's keys, once the charter is checked
    this.prev = null;   // the hash of the last event checked
    this.next = 0;      // the sequence number the next event must have
    this.foreign = false; // the first event is not this negotiation's charter
  }

  // One result per event: {ok, hash, withheld} or {ok: false, why, hash}.
  async add(events) {
    const results = [];
    for (const event of events) {
      if (this.next === 0) await this.#charter(event);
      const result = this.foreign ?
        { ok: false, why: "the charter is not the one this negotiation names" } :
        await verifyOne(event, this.next, this.prev, this.keys);
      results.push(result);
      this.prev = result.hash ?? null;
      this.next += 1;
    }
    return results;
  }

  async #charter(event) {
    const charter = event.body;
    this.foreign = !charter || (await hexDigest(Tag.CHARTER, charter)) !== this.negotiation;
    if (!this.foreign) this.keys = await charterKeys(charter);
  }
}

async function verifyOne(event, i, prev, keys) {
  const env = event.envelope;
  const hash = await eventHash(env, event.signature);
  const fail = (why) => ({ ok: false, why, hash });
  if (env.seq !== i) return fail(`sequence number ${env.seq} where ${i} was expected`);
  if (env.prev !== prev) return fail("its prev does not name the event before it: the chain is broken");
  const key = keys.get(`${env.author}/${env.key}`);
  if (!key) return fail(`key ${env.key} is not one of ${env.author}'s keys in the charter`);
  let signature;
  try {
    signature = fromBase64(event.signature, "signature");
  } catch (e) {
    return fail(e.message);
  }
  const ok = await crypto.subtle.verify(ALGORITHM, key, signature, tagged(Tag.EVENT, env));
  if (!ok) return fail(`the signature does not verify with ${env.author}'s key ${env.key}`);
  if (event.body !== undefined && event.body !== null) {
    if ((await hexDigest(Tag.BODY, event.body)) !== env.body) return fail("the body does not match its hash");
  }
  return { ok: true, hash, withheld: event.body === undefined || event.body === null };
}

// --- checkpoints and consistency proofs (RFC 6962 / RFC 9162) --------------------------------

export function parseCheckpoint(note) {
  const [text, sigs = ""] = note.split("\n\n");
  const lines = text.split("\n");
  if (lines.length < 3) throw new ParleyError("a checkpoint has an origin, a size and a root hash");
  const size = Number(lines[1]);
  if (!/^\d+$/.test(lines[1]) || !Number.isSafeInteger(size)) throw new ParleyError("bad checkpoint size");
  const root = fromBase64(lines[2], "checkpoint root");
  const signatures = sigs.split("\n").filter((l) => l.startsWith("— ")).map((line) => {
    const [name, b64] = line.slice(2).split(" ");
    return { name, blob: fromBase64(b64, `signature by ${name}`) };
  });
  return { origin: lines[0], size, root, text: text + "\n", signatures };
}

// Check the log's signature and each log witness's cosignature on a checkpoint.
export async function checkCheckpoint(note, logVkey, witnessVkeys) {
  const cp = parseCheckpoint(note);
  const log = await parseVkey(logVkey);
  const out = { checkpoint: cp, log: false, cosigners: [] };
  const witnesses = new Map();
  for (const vkey of witnessVkeys) {
    const w = await parseVkey(vkey);
    witnesses.set(`${w.name}/${w.id}`, w);
  }
  for (const s of cp.signatures) {
    const id = hex(s.blob.slice(0, 4));
    if (s.name === log.name && id === log.id) {
      out.log = await verifyRaw(log.publicKey, s.blob.slice(4), utf8(cp.text));
    } else if (witnesses.has(`${s.name}/${id}`)) {
      out.cosigners.push({ name: s.name, ok: await verifyCosignature(witnesses.get(`${s.name}/${id}`), s.blob, cp.text) });
    }
  }
  return out;
}

async function verifyRaw(publicKey, signature, message) {
  if (signature.length !== 64) return false;
  return crypto.subtle.verify(ALGORITHM, await verifierKey(publicKey), signature, message);
}

async function verifyCosignature(witness, blob, text) {
  if (blob.length !== 4 + 8 + 64) return false;
  const time = new DataView(blob.buffer, blob.byteOffset + 4, 8).getBigUint64(0);
  const message = utf8(`cosignature/v1\ntime ${time}\n${text}`);
  return verifyRaw(witness.publicKey, blob.slice(12), message);
}

async function nodeHash(left, right) {
  return sha256(concat(Uint8Array.of(1), left, right));
}

function same(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// RFC 9162 §2.1.4.2: is the tree of size `second` an extension of the tree of size `first`?
export async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  if (first > second) return false;
  if (first === second) return proof.length === 0 && same(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0;
  const path = (first & (first - 1)) === 0 ? [firstRoot, ...proof] : [...proof];
  if (!path.length) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
    } else {
      sr = await nodeHash(sr, c);
    }
    [fn, sn] = [Math.floor(fn / 2), Math.floor(sn / 2)];
  }
  return sn === 0 && same(fr, firstRoot) && same(sr, secondRoot);
}
