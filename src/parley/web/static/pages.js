// The pages' behaviour: key status, signing forms, the audit checks, live updates, redline
// navigation. Everything that touches bytes or keys is in signing.js.
import * as signing from "./signing.js";

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const page = document.body.dataset;

function say(el, text, ok = false) {
  if (!el) return;
  el.textContent = text;
  el.hidden = !text;
  if (ok) el.classList.add("form-ok");
}

// Move focus to a message or a region, making it focusable first (a paragraph, a fieldset): a
// keyboard or screen-reader user lands where the page changed instead of at the page's top.
function focusOn(el) {
  if (!el) return;
  if (!el.matches("a[href], button, input, select, textarea, [tabindex]")) el.setAttribute("tabindex", "-1");
  el.focus();
}

// The level a heading placed at `el` takes: one below the last heading before it in the page
// (a prepared move's summary sits under its section's heading, whatever the page).
function headingLevelAt(el) {
  const before = $$("h1, h2, h3, h4, h5, h6, [role=heading]").filter((h) =>
    h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING && !h.contains(el));
  const last = before[before.length - 1];
  const level = last ? Number(last.getAttribute("aria-level") || last.tagName.slice(1)) : 1;
  return Math.min(6, level + 1);
}

// Where a form posts: its attribute, since a field named "action" (the Amend page's edit forms
// have one) shadows form.action.
function postsTo(form) {
  return form.getAttribute("action");
}

function element(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") el.textContent = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) el.append(c);
  return el;
}

// --- the key this browser holds -------------------------------------------------------------

async function keyStatus() {
  let record = null;
  try {
    record = await signing.activeKey();
  } catch (e) {
    record = null;
  }
  // no warning where nothing is signed: loading a key, or verifying someone else's bundle
  $("#no-key").hidden = Boolean(record) || Boolean($("#import-form")) || Boolean($("#verify-form"));
  const mismatch = $("#key-mismatch");
  if (record && page.session && page.session !== record.vkey) {
    mismatch.textContent = `This browser signs with ${record.name} (${record.keyId}), but the session ` +
      "belongs to another key. Log in again on the Keys page.";
    mismatch.hidden = false;
  } else if (record && !page.session && document.body.dataset.negotiation === undefined) {
    mismatch.hidden = true;
  }
  const status = $("#key-status");
  if (record) {
    status.textContent = "";
    status.append("Key in this browser: ", element("strong", { text: record.name }),
      ` (${record.keyId})` + (page.session === record.vkey ? " · logged in" : " · not logged in"));
  }
  const loggedOut = $("#logged-out");
  if (record && !page.session && loggedOut) { // the key is here; only its session has ended
    loggedOut.textContent = "";
    loggedOut.append(element("strong", { text: `${record.name}'s key is in this browser, but its session has ended.` }),
      " Log in again with it on the ", element("a", { href: "/keys", text: "Keys" }), " page.");
  }
  return record;
}

// --- keys page ------------------------------------------------------------------------------

async function afterKey(record, message) {
  const saved = await signing.saveKey(record);
  await signing.login(saved);
  say($("#keys-ok"), message, true);
  setTimeout(() => location.assign("/"), 700);
}

async function guard(work, errorEl) {
  say(errorEl, "");
  try {
    await work();
  } catch (e) {
    say(errorEl, e.message || String(e));
    focusOn(errorEl);
  }
}

async function renderKeys() {
  const current = await signing.activeKey().catch(() => null);
  const box = $("#current-key");
  box.textContent = "";
  if (!current) {
    box.append(element("p", { class: "warning", text: "No key is loaded in this browser: import your key file or create a key below." }));
  } else {
    const dl = element("dl", { class: "facts" },
      element("dt", { text: "Delegation" }), element("dd", { text: current.name }),
      element("dt", { text: "Key id" }), element("dd", {}, element("code", { text: current.keyId })),
      element("dt", { text: "Verifier key (vkey)" }), element("dd", {}, element("code", { id: "vkey", text: current.vkey })));
    const login = element("button", { type: "button", class: "secondary", text: "Log in again" });
    login.addEventListener("click", () => guard(async () => {
      await signing.login(current);
      say($("#keys-ok"), `Logged in as ${current.name}.`, true);
      setTimeout(() => location.reload(), 500);
    }, $("#keys-error")));
    box.append(dl, element("div", { class: "actions" }, login));
  }
  const list = $("#stored-keys");
  const keys = await signing.listKeys().catch(() => []);
  list.textContent = "";
  if (!keys.length) list.append(element("p", { class: "empty", text: "None yet." }));
  for (const k of keys) {
    // two keys of one delegation (a new demo, a replaced key) are told apart by their ids
    const use = element("button", { type: "button", class: "secondary", text: `Use ${k.name} (${k.vkey.split("+")[1]})` });
    use.addEventListener("click", () => guard(async () => {
      signing.useKey(k.vkey);
      await signing.login(k);
      location.reload();
    }, $("#keys-error")));
    const forget = element("button", { type: "button", class: "danger", text: "Forget" });
    forget.addEventListener("click", () => guard(async () => {
      if (!confirm(`Forget ${k.name}'s key in this browser? It cannot be recovered from here.`)) return;
      await signing.forgetKey(k.vkey);
      await signing.logout();
      location.reload();
    }, $("#keys-error")));
    list.append(element("p", {}, element("strong", { text: k.name }), " ",
      element("code", { class: "hash", text: k.vkey }), " ", use, " ", forget));
  }
}

function wireKeysPage() {
  if (!$("#import-form")) return;
  renderKeys();
  $("#import-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    guard(async () => {
      const file = $("#key-file").files[0];
      if (!file) throw new signing.ParleyError("choose your key file first");
      const record = await signing.importKeyFile(await file.text());
      await afterKey(record, `Imported ${record.name}'s key and logged in.`);
    }, $("#keys-error"));
  });
  $("#new-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    guard(async () => {
      const record = await signing.generateKey($("#new-name").value.trim());
      await signing.saveKey(record);
      await signing.login(record);
      await renderKeys();
      say($("#keys-ok"), `Created ${record.name}'s key and logged in. Give its vkey to the mediators for the charter: ${record.vkey}`, true);
    }, $("#keys-error"));
  });
  for (const button of $$("[data-demo-key]")) {
    button.addEventListener("click", () => guard(async () => {
      const response = await fetch(`/demo/keys/${button.dataset.demoKey}`, { credentials: "same-origin" });
      if (!response.ok) throw new signing.ParleyError("the demo key is not available");
      const record = await signing.importKeyFile(await response.text());
      await afterKey(record, `You now act as ${record.name} (demo key).`);
    }, $("#keys-error")));
  }
}

// --- making a move: prepare, show, check, sign, submit --------------------------------------

// What was just recorded, said again on the page the browser goes to next (the page it was
// said on is replaced a moment later, and the next one may look just as before the move).
const RECORDED = "parley-recorded";

let recorded = false; // the move is on the record: leaving the page loses nothing

function remember(text) {
  recorded = true;
  forgetKeptEdits(); // signed: nothing left to restore
  try { sessionStorage.setItem(RECORDED, text); } catch { /* storage refused: the page says it once */ }
}

// Amendments in progress live in the page until they are signed: leaving it (another tab of
// the negotiation, say) would drop them without a word, so the browser asks first.
// Edits not yet signed are kept in this browser too (per negotiation and version), so a visit
// elsewhere does not lose them: coming back to the same version offers to restore them.
function wireKeptEdits() {
  const state = $("#amend-state");
  const ops = $("form input[name=ops]");
  if (!state || !ops) return;
  const slot = keptSlot(state);
  try {
    const count = JSON.parse(ops.value).length;
    if (count) sessionStorage.setItem(slot, ops.value);
    else if (state.dataset.dropped) sessionStorage.removeItem(slot); // started again, or gone
    const kept = sessionStorage.getItem(slot);
    const restore = $("#restore-edits");
    if (!count && kept && restore) {
      const n = JSON.parse(kept).length;
      $("input[name=ops]", restore).value = kept;
      $("[data-restore-said]", restore).textContent = `${n} change${n === 1 ? "" : "s"} to this version, not yet signed, ${n === 1 ? "is" : "are"} kept in this browser from your last visit.`;
      restore.hidden = false;
    }
  } catch { /* storage refused: the page works as before */ }
}

// one delegation's edits are never offered to another key logged in later in the same tab
function keptSlot(state) {
  return `parley-edits:${page.negotiation}:${state.dataset.base}:${page.author}:${page.key}`;
}

function forgetKeptEdits() {
  const state = $("#amend-state");
  if (!state) return;
  try { sessionStorage.removeItem(keptSlot(state)); } catch { /* as above */ }
}

let typedSinceEdit = false; // words typed on the Amend page since its last edit was answered
let leaving = false; // the Amend page is being left on purpose (an edit sent the old way)

function wireUnsavedAmendment() {
  if (!$("form input[name=ops]")) return;
  document.addEventListener("input", (ev) => { if (ev.target.closest("details.edit-provision")) typedSinceEdit = true; });
  window.addEventListener("pageshow", () => { leaving = false; });
  window.addEventListener("beforeunload", (ev) => {
    const ops = $("form input[name=ops]"); // the page's edits, kept in it until signed
    const unsaved = typedSinceEdit || (ops && ops.value !== "[]");
    if (!unsaved || leaving || recorded) return;
    ev.preventDefault();
    ev.returnValue = "";
  });
}

// An edit on the Amend page posts the page's edits and is answered with the page: shown in
// place, it adds no entry to the browser's history, so Back leaves the Amend page (asking first
// while edits are unsigned) instead of stepping back through every edit, each a form to resend.
// Anything but an Amend page in answer (a session that ended, say) is left to the browser.
function wireAmendEdits() {
  if (!$("#amend-state")) return;
  document.addEventListener("submit", (ev) => {
    const form = ev.target;
    if (!form.matches("form[data-edit], #restore-edits")) return;
    ev.preventDefault();
    editInPlace(form).catch(() => {
      leaving = true;
      form.submit(); // the same edit, the old way: the server keeps nothing between edits
    });
  });
}

async function editInPlace(form) {
  const response = await fetch(postsTo(form), {
    method: "POST", credentials: "same-origin", body: new URLSearchParams(new FormData(form)),
  });
  const html = (response.headers.get("content-type") || "").startsWith("text/html") ? await response.text() : "";
  const next = new DOMParser().parseFromString(html, "text/html");
  const main = $("main", next);
  if (!main || !$("#amend-state", next)) throw new Error(`not an Amend page (${response.status})`);
  $("main").replaceWith(document.adoptNode(main));
  document.title = next.title;
  typedSinceEdit = response.status === 422; // a refused edit's words are still only in the page
  wireKeptEdits();
  wireMoveForms();
  wireRedline();
  wireFileFields();
  focusOn($("main [autofocus]") || $("main")); // where the edit was kept, or what was wrong
}

function showRecorded() {
  let text = null;
  try { text = sessionStorage.getItem(RECORDED); sessionStorage.removeItem(RECORDED); } catch { return; }
  const main = $("main");
  if (!text || !main) return;
  main.prepend(element("p", { class: "form-ok recorded", role: "status", text }));
}

function showProposal(form, proposal, note, signer = signAndSubmit) {
  const box = $(".proposal", form);
  box.textContent = "";
  const env = proposal.envelope;
  // what a delegation decides on first; the envelope's bookkeeping below, for whoever checks it
  const facts = element("dl", { class: "facts" });
  const rows = [["By", `${env.author} with key ${env.key}`],
    ["Readable by", env.audience === "all" ? "everyone in the negotiation" : env.audience.join(", ")]];
  for (const [k, v] of rows) facts.append(element("dt", { text: k }), element("dd", { text: v }));
  const technical = element("dl", { class: "facts" });
  const more = [["Move", env.type], ["Event number", String(env.seq)],
    ["After event", env.prev ? env.prev.slice(0, 16) + "…" : "none"], ["Time", env.time], ["Body hash", env.body]];
  for (const [k, v] of more) technical.append(element("dt", { text: k }), element("dd", { text: v }));
  const sign = element("button", { type: "button", "data-sign": "" , text: "Sign with my key and submit" });
  const cancel = element("button", { type: "button", class: "secondary", text: "Cancel" });
  cancel.addEventListener("click", () => {
    box.hidden = true;
    $("button[type=submit]", form)?.focus();
  });
  sign.addEventListener("click", () => signer(form, proposal, sign));
  if (note) box.append(element("p", { class: "notice", role: "status", text: note }));
  box.append(element(`h${headingLevelAt(box)}`, { text: proposal.summary }), facts,
    element("details", {}, element("summary", { text: "What your key signs: the event's envelope" }), technical),
    element("details", {}, element("summary", { text: "The exact body you sign (JSON)" }),
      element("pre", { text: JSON.stringify(proposal.body, null, 1) })),
    element("div", { class: "actions" }, sign, cancel));
  box.hidden = false;
  box.focus();
}

async function prepare(form, note) {
  const error = $(".form-error", form);
  say(error, "");
  const response = await fetch(postsTo(form), {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(new FormData(form)),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new signing.ParleyError(signing.problem(data, response.status));
  showProposal(form, data, note);
}

async function signAndSubmit(form, proposal, button) {
  const error = $(".form-error", form);
  say(error, "");
  button.disabled = true;
  try {
    const record = await signing.activeKey();
    if (!record) throw new signing.ParleyError("no key is loaded in this browser: load yours on the Keys page");
    await signing.checkProposal(proposal, {
      negotiation: page.negotiation, type: form.dataset.move, author: page.author, key: record.keyId,
    });
    if (record.keyId !== page.key) {
      throw new signing.ParleyError(`this browser's key (${record.keyId}) is not the key you are logged in with here (${page.key})`);
    }
    const signature = await signing.signEvent(record, proposal.envelope);
    const { response, data } = await signing.submitEvent(page.negotiation, {
      envelope: proposal.envelope, signature, body: proposal.body,
    });
    // Only a stale envelope (another move came first) is worth preparing again; any other
    // refusal, 409s such as a move out of turn included, is said as the server said it.
    if (response.status === 409 && data && data.error && data.error.code === "conflict") {
      await prepare(form, "Someone moved first: the negotiation changed while you were reading. " +
        "A fresh envelope has been prepared on the new state; check it and sign again.");
      return;
    }
    if (!response.ok) {
      throw new signing.ParleyError(`Not recorded: the server refused the signed move: ${signing.problem(data, response.status)}`);
    }
    const box = $(".proposal", form);
    box.textContent = "";
    const said = `Signed and recorded as event ${data.seq}. The negotiation is ${String(data.phase).replace("_", " ")}.`;
    const done = element("p", { class: "form-ok", role: "status", text: said });
    box.append(done);
    focusOn(done);
    remember(`Recorded: ${proposal.summary} (event ${data.seq}). The negotiation is ${String(data.phase).replace("_", " ")}.`);
    setTimeout(() => location.assign(form.dataset.next || location.pathname + location.search), 900);
  } catch (e) {
    say(error, e.message || String(e));
    button.disabled = false;
    focusOn(error);
  }
}

// A prepared move is what gets signed: once the form changes it no longer says what the form
// says, so it is withdrawn (a date corrected after preparing was signed as first prepared).
function withdrawOnEdit(form) {
  const withdraw = (ev) => {
    const box = $(".proposal", form);
    if (!box || box.hidden || box.contains(ev.target)) return;
    if ($(".form-ok", box) || $("[data-sign]", box)?.disabled) return; // signing, or recorded
    box.hidden = true;
    box.textContent = "";
    say($(".form-error", form), "The form changed after it was prepared: prepare it again to see, and sign, what it says now.");
  };
  form.addEventListener("input", withdraw);
  form.addEventListener("change", withdraw);
}

function wireMoveForms() {
  for (const form of $$("form[data-move]")) {
    withdrawOnEdit(form);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      // busy, not disabled: a disabled button drops the keyboard focus to the page's top
      const submit = $("button[type=submit]", form);
      if (submit.getAttribute("aria-disabled") === "true") return;
      submit.setAttribute("aria-disabled", "true");
      prepare(form)
        .catch((e) => {
          const error = $(".form-error", form);
          say(error, e.message || String(e));
          focusOn(error);
        })
        .finally(() => submit.removeAttribute("aria-disabled"));
    });
  }
}

// --- convening: a new negotiation's charter ------------------------------------------------

function clearFieldErrors(form) {
  for (const p of $$(".field-error", form)) say(p, "");
  for (const el of $$("[aria-invalid]", form)) el.removeAttribute("aria-invalid");
}

function showFieldError(form, field, message) {
  const where = field && document.getElementById(`err-${field}`);
  if (!where) return false;
  say(where, message);
  const inputs = $$(`[name="${field}"]`, form);
  for (const el of inputs) el.setAttribute("aria-invalid", "true");
  focusOn(inputs[0] || where.closest("fieldset"));
  return true;
}

async function prepareCharter(form) {
  clearFieldErrors(form);
  say($(".form-error", form), "");
  const response = await fetch(postsTo(form), {
    method: "POST",
    headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(new FormData(form)),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = signing.problem(data, response.status);
    if (!showFieldError(form, data?.error?.details?.field, message)) throw new signing.ParleyError(message);
    return;
  }
  showProposal(form, data, null, signCharter);
}

async function signCharter(form, proposal, button) {
  const error = $(".form-error", form);
  say(error, "");
  button.disabled = true;
  try {
    const record = await signing.activeKey();
    if (!record) throw new signing.ParleyError("no key is loaded in this browser: load yours on the Keys page");
    const negotiation = await signing.checkCharter(proposal, record);
    const signature = await signing.signEvent(record, proposal.envelope);
    const { response, data } = await signing.submitCharter({ envelope: proposal.envelope, signature, body: proposal.body });
    if (!response.ok) {
      throw new signing.ParleyError(`Not recorded: the server refused the charter: ${signing.problem(data, response.status)}`);
    }
    const box = $(".proposal", form);
    box.textContent = "";
    box.append(element("p", { class: "form-ok", role: "status", text: `Convened: negotiation ${negotiation.slice(0, 12)}… is recorded. Every participant now joins it; opening its dashboard.` }));
    remember(`Recorded: the charter of negotiation ${negotiation.slice(0, 12)}…; every participant now joins it.`);
    setTimeout(() => location.assign(`/n/${negotiation}`), 900);
  } catch (e) {
    say(error, e.message || String(e));
    button.disabled = false;
    focusOn(error);
  }
}

function addParticipant() {
  const rows = $$("#participant-rows .participant");
  const last = rows[rows.length - 1];
  const from = last.dataset.row;
  const to = String(Number(from) + 1);
  const row = last.cloneNode(true);
  row.dataset.row = to;
  $("legend", row).textContent = `Participant ${Number(to) + 1}`;
  for (const el of $$("[id], [name], [for], [aria-describedby]", row)) {
    for (const attr of ["id", "name", "for", "aria-describedby"]) {
      const value = el.getAttribute(attr);
      if (value) el.setAttribute(attr, value.replace(new RegExp(`-${from}$`), `-${to}`));
    }
  }
  for (const input of $$("input", row)) {
    if (input.type === "checkbox") input.checked = false;
    else input.value = "";
    input.removeAttribute("aria-invalid");
  }
  for (const p of $$(".field-error", row)) say(p, "");
  last.after(row);
  $("input", row).focus();
}

async function fillOwnKey(form) {
  const record = await signing.activeKey().catch(() => null);
  if (!record || $$("input[name^=vkey-]", form).some((i) => i.value.trim() === record.vkey)) return;
  const empty = $$("input[name^=vkey-]", form).find((i) => !i.value.trim());
  const row = (empty && empty.closest(".participant")) || $(".participant", form);
  const n = row.dataset.row;
  $(`#code-${n}`).value = record.name;
  $(`#vkey-${n}`).value = record.vkey;
  $(`input[name=role-${n}][value=mediator]`).checked = true;
}

function wireConvene() {
  const form = $("#convene-form");
  if (!form) return;
  fillOwnKey(form);
  withdrawOnEdit(form);
  $("#add-participant").addEventListener("click", addParticipant);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const submit = $("button[type=submit]", form);
    submit.disabled = true;
    prepareCharter(form).catch((e) => say($(".form-error", form), e.message || String(e)))
      .finally(() => { submit.disabled = false; });
  });
}

// --- audit: check every event and the checkpoint here ---------------------------------------

const FAILURES_LISTED = 20;

async function wireAudit() {
  const summary = $("#chain-summary");
  if (!summary) return;
  try {
    await checkRecord(summary);
  } catch (e) {
    summary.className = "form-error";
    summary.textContent = `The record could not be checked: ${e.message || e}`;
  }
  await wireCheckpoint();
}

// Every event, fetched from the API in pages and checked in order from the charter on; the
// rows listed get their badges, and the summary counts them all, listed or not.
async function checkRecord(summary) {
  const listed = Number(summary.dataset.count);
  const size = Number(summary.dataset.page); // events a fetch asks for
  const check = new signing.ChainCheck(page.negotiation);
  const failures = [];
  for (let since = 0; ; since += size) {
    const url = `${summary.dataset.events}?since=${since}&limit=${size}`;
    const response = await fetch(url, { credentials: "same-origin" });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new signing.ParleyError(signing.problem(data, response.status));
    const results = await check.add(data.events);
    results.forEach((r, i) => {
      const failure = badge(since + i, r);
      if (failure) failures.push(failure);
    });
    summary.textContent = `Checking the record… ${check.next.toLocaleString()} of ${Math.max(listed, check.next).toLocaleString()} events`;
    if (data.events.length < size) break;
  }
  for (const row of $$("tr[data-seq]").filter((r) => Number(r.dataset.seq) >= check.next)) {
    failures.push(badge(Number(row.dataset.seq), { ok: false, why: "the server did not give this event to check" }));
  }
  report(summary, check.next, failures);
}

// Marks the row of event `seq`, if it is listed; the failure, if it failed.
function badge(seq, result) {
  const row = $(`tr[data-seq="${seq}"]`);
  const ok = result.ok && (!row || result.hash === row.dataset.hash);
  const why = result.ok ? "the hash listed is not the event's hash" : result.why;
  const mark = row && $("[data-badge]", row);
  if (mark) {
    mark.className = "badge " + (ok ? "verified" : "failed");
    mark.textContent = ok ? (result.withheld ? "✓ verified (body withheld)" : "✓ verified") : `✗ ${why}`;
  }
  return ok ? null : { seq, why };
}

function report(summary, checked, failures) {
  const list = $("#chain-failures");
  if (!failures.length) {
    summary.className = "form-ok";
    summary.textContent = `All ${checked.toLocaleString()} events verified in this browser: every signature, and the hash chain from the charter on.`;
    return;
  }
  summary.className = "form-error";
  summary.textContent = `${failures.length.toLocaleString()} of ${checked.toLocaleString()} events failed verification in this browser:`;
  list.textContent = "";
  for (const f of failures.slice(0, FAILURES_LISTED)) list.append(element("li", { class: "bad", text: `✗ event ${f.seq}: ${f.why}` }));
  if (failures.length > FAILURES_LISTED) list.append(element("li", { text: `and ${failures.length - FAILURES_LISTED} more` }));
  list.hidden = false;
}

async function wireCheckpoint() {
  const pre = $("#checkpoint");
  if (!pre) return;
  const note = pre.textContent;
  const list = $("#checkpoint-checks");
  list.textContent = "";
  try {
    const witnesses = JSON.parse($("#witness-vkeys").textContent);
    const result = pre.dataset.logVkey ? await signing.checkCheckpoint(note, pre.dataset.logVkey, witnesses) : null;
    const cp = signing.parseCheckpoint(note);
    list.append(element("li", { text: `Log ${cp.origin}: ${cp.size} entries.` }));
    if (result) {
      list.append(element("li", { class: result.log ? "ok" : "bad", text: result.log ? "✓ signed by the log key named in the charter" : "✗ no valid signature by the log key named in the charter" }));
      for (const c of result.cosigners) {
        list.append(element("li", { class: c.ok ? "ok" : "bad", text: `${c.ok ? "✓" : "✗"} cosigned by log witness ${c.name}` }));
      }
      if (!result.cosigners.length) list.append(element("li", { class: "muted", text: "No log-witness cosignature on this checkpoint." }));
    }
  } catch (e) {
    list.append(element("li", { class: "bad", text: `✗ ${e.message}` }));
  }
  $("#consistency").addEventListener("click", () => checkConsistency(note));
}

async function checkConsistency(note) {
  const out = $("#consistency-result");
  const cp = signing.parseCheckpoint(note);
  const storeKey = `parley.checkpoint.${cp.origin}`;
  const seen = JSON.parse(localStorage.getItem(storeKey) || "null");
  const remember = () => localStorage.setItem(storeKey, JSON.stringify({ size: cp.size, root: signing.base64(cp.root) }));
  out.hidden = false;
  out.className = "";
  try {
    if (!seen) {
      remember();
      out.className = "notice";
      out.textContent = `This browser had not seen a checkpoint of ${cp.origin} before. It remembers this one (${cp.size} entries) and will check the next against it.`;
      return;
    }
    const response = await fetch(`/log/proof/consistency?old=${seen.size}&new=${cp.size}`, { credentials: "same-origin" });
    const data = await response.json().catch(() => ({}));
    if (seen.size > 0 && seen.size !== cp.size && !response.ok) throw new signing.ParleyError(signing.problem(data, response.status));
    const proof = (data.hashes || []).map((h) => signing.fromBase64(h, "proof hash"));
    const ok = await signing.verifyConsistency(seen.size, cp.size, signing.fromBase64(seen.root, "root"), cp.root, seen.size === cp.size ? [] : proof);
    if (!ok) throw new signing.ParleyError(`the log's history is NOT consistent with the checkpoint this browser saw (${seen.size} entries): it was rewritten, or you were shown two different histories`);
    remember();
    out.className = "form-ok";
    out.textContent = `✓ Consistent: the log at ${cp.size} entries extends the ${seen.size} entries this browser saw before; nothing was rewritten.`;
  } catch (e) {
    out.className = "form-error";
    out.textContent = `✗ ${e.message}`;
  }
}

// --- live updates on the dashboard ----------------------------------------------------------

function wireLive() {
  const live = $("#live");
  if (!live || !window.EventSource) return;
  const source = new EventSource(`/api/negotiations/${page.negotiation}/stream`);
  let last = null;
  let asked = 0; // fetches begun, and the latest whose answer is shown: an answer that comes
  let shown = 0; // back after a later one's is older than what the page shows, and is dropped
  source.onmessage = async (ev) => {
    const seq = JSON.parse(ev.data).seq;
    if (last !== null && seq !== last) {
      const mine = ++asked;
      const response = await fetch(live.dataset.live, { credentials: "same-origin" }).catch(() => null);
      const html = response?.ok ? await response.text() : null; // our own escaped fragment
      if (html !== null && mine > shown) {
        shown = mine;
        // the link or button that has the focus keeps it (found again by where it leads)
        const had = live.contains(document.activeElement) ? document.activeElement : null;
        const key = had && (had.getAttribute("href") || had.id);
        const alike = () => $$("a[href], [id]", live).filter((el) => (el.getAttribute("href") || el.id) === key);
        const at = key ? alike().indexOf(had) : -1; // the second of two links to one place stays the second
        live.innerHTML = html;
        if (key) (alike()[at] || alike()[0])?.focus({ preventScroll: true });
        // one line spoken (role=status), not the whole block read again
        say($("#live-note"), `Updated ${new Date().toLocaleTimeString()}: event ${seq - 1} was recorded.`);
      }
    }
    last = seq;
  };
}

// --- redline: next and previous change ------------------------------------------------------

let redlineStep = null; // moves to the previous or next change of the redline shown now

function wireRedline() {
  const changes = $$(".pl-change");
  const prev = $("[data-change=prev]");
  const next = $("[data-change=next]");
  if (!changes.length || !prev) return;
  let at = -1;
  const go = (step) => {
    at = Math.max(0, Math.min(changes.length - 1, at + step));
    changes.forEach((c) => c.classList.remove("current"));
    const target = changes[at];
    target.classList.add("current");
    target.setAttribute("tabindex", "-1");
    target.scrollIntoView({ block: "start" });
    target.focus({ preventScroll: true });
  };
  prev.hidden = next.hidden = false;
  prev.addEventListener("click", () => go(-1));
  next.addEventListener("click", () => go(1));
  if (!redlineStep) document.addEventListener("keydown", redlineKeys);
  redlineStep = go;
}

// j and k only while the reader is on the redline (or nowhere in particular), never with a
// modifier: a single-key shortcut must not fire while typing or using the browser's own keys
function redlineKeys(ev) {
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const on = ev.target === document.body || ev.target.closest(".pl-redline, [data-change]");
  if (!on) return;
  if (ev.key === "j") redlineStep(1);
  if (ev.key === "k") redlineStep(-1);
}

// --- verify: read a chosen file into the form -----------------------------------------------

function wireFileFields() {
  const pairs = [[$("#bundle-file"), "bundle"], ...$$("input[type=file][data-fill]").map((i) => [i, i.dataset.fill])];
  for (const [input, target] of pairs) {
    if (!input) continue;
    input.addEventListener("change", async () => {
      const file = input.files[0];
      if (file) document.getElementById(target).value = await file.text();
    });
  }
}

// --- integrate: a changed choice must be merged again before it is signed --------------------

function wireIntegrate() {
  const choices = $("#merge-choices");
  const move = $("form[data-move=integrate]");
  if (!choices || !move) return;
  const stale = () => {
    // what the prepare form would send is the last merge, shown below; not these new choices
    move.querySelector("button[type=submit]").disabled = true;
    const box = $(".proposal", move);
    if (box && !$(".form-ok", box)) { box.hidden = true; box.textContent = ""; } // nor what was prepared
    say(move.querySelector(".form-error"), "You changed the choices above: merge again with them before preparing the integration.");
  };
  choices.addEventListener("input", (event) => {
    // writing a compromise chooses it
    const decision = event.target.dataset?.decision;
    const select = decision && document.getElementById(decision);
    if (select) select.value = "own";
    stale();
  });
  choices.addEventListener("change", stale);
  choices.addEventListener("formdata", (event) => {
    // only the wordings chosen go into the address (not every provision's words, every time)
    for (const area of $$("textarea[data-decision]", choices)) {
      if (document.getElementById(area.dataset.decision)?.value !== "own") event.formData.delete(area.name);
    }
  });
}

keyStatus();
showRecorded();
wireKeptEdits();
wireUnsavedAmendment();
wireAmendEdits();
wireIntegrate();
wireKeysPage();
wireMoveForms();
wireConvene();
wireAudit();
wireLive();
wireRedline();
wireFileFields();
