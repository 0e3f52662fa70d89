// The agents' WhatsApp template panel, in Service Cloud's Messaging Session page (an iframe whose URL
// Salesforce ends with ?id=<MessagingSession id>). Every call goes to the panel's own API, relative to
// this page: api/context, api/templates, api/send, api/messages/{id}. No inline script, no library.
"use strict";

(function () {
  const QUICK_REPLY_MAX = 128;
  const COPY_CODE_MAX = 15;
  const POLL_MS = 2000;
  const POLL_TRIES = 90;
  const SEARCH_DELAY_MS = 200;
  const NO_SENDER = "No WhatsApp sender is configured for this org: select senders in the setup wizard.";
  const PLACEHOLDER = /\{\{\s*(\d+)\s*\}\}/g;

  const $ = (id) => document.getElementById(id);
  const els = {
    notice: $("notice"),
    sender: $("sender"),
    to: $("to"),
    search: $("search"),
    listStatus: $("list-status"),
    templates: $("templates"),
    form: $("form"),
    title: $("template-title"),
    fields: $("fields"),
    preview: $("preview"),
    formError: $("form-error"),
    send: $("send"),
    status: $("status"),
  };

  const state = {
    sessionId: new URLSearchParams(window.location.search).get("id") || null,
    templates: [],
    current: null, // the chosen template
    inputs: null, // {headerText, mediaUrl, filename, latitude, longitude, placeholders[], buttons[]}
    errors: new Map(), // data-path -> the <p> that shows its error
    listRequest: 0, // answers to older template requests are ignored
    searchTimer: null,
    requestId: null,
    sending: false,
  };

  // -- small DOM helpers ---------------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  let fieldCount = 0;

  // A labelled input with its error line (and an optional hint or counter); returns {wrap, input}.
  function field(label, path, options) {
    const o = options || {};
    fieldCount += 1;
    const id = "f" + fieldCount;
    const errorId = id + "-error";
    const hintId = o.hint ? id + "-hint" : null;
    const input = el("input", {
      id: id,
      type: o.type || "text",
      "data-path": path,
      autocomplete: "off",
      readonly: o.readonly || false,
      value: o.value,
      step: o.step,
      placeholder: o.placeholder,
      "aria-describedby": [hintId, errorId].filter(Boolean).join(" "),
    });
    const labelEl = el("label", { for: id, text: label });
    if (o.counter) labelEl.append(o.counter);
    const error = el("p", { id: errorId, className: "error", hidden: true });
    if (path) state.errors.set(path, error);
    const wrap = el(
      "div",
      { className: "field" },
      labelEl,
      input,
      o.hint ? el("p", { id: hintId, className: "hint", text: o.hint }) : null,
      error,
    );
    return { wrap, input, error };
  }

  function showError(error, input, message) {
    error.textContent = message;
    error.hidden = false;
    if (input) input.setAttribute("aria-invalid", "true");
  }

  function clearError(error, input) {
    error.textContent = "";
    error.hidden = true;
    if (input) input.removeAttribute("aria-invalid");
  }

  function clearErrors() {
    for (const [path, error] of state.errors) {
      clearError(error, document.querySelector(`[data-path="${CSS.escape(path)}"]`));
    }
    clearError(els.formError);
  }

  function setStatus(text, kind) {
    els.status.textContent = text;
    els.status.className = "status" + (kind ? " " + kind : "");
  }

  function newRequestId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  async function getJson(url, init) {
    const response = await fetch(url, Object.assign({ headers: { Accept: "application/json" } }, init));
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    return { status: response.status, ok: response.ok, body: body || {} };
  }

  // -- the session's context -------------------------------------------------------------------------

  async function loadContext() {
    const query = state.sessionId ? "?id=" + encodeURIComponent(state.sessionId) : "";
    let answer;
    try {
      answer = await getJson("api/context" + query);
    } catch (_) {
      answer = { ok: false, status: 0, body: {} };
    }
    if (!answer.ok) {
      showNotice(answer.body.error || "The panel could not load this session's details: reload the page to try again.");
      return;
    }
    const context = answer.body;
    const senders = context.senders || [];
    if (senders.length === 0) {
      showNotice(context.problem || NO_SENDER);
      return; // every control stays disabled
    }
    for (const number of senders) {
      const label = number === context.sender ? `${number} (this conversation)` : number;
      els.sender.append(el("option", { value: number, text: label }));
    }
    els.sender.disabled = false;
    els.to.disabled = false;
    if (context.recipient) els.to.value = context.recipient;
  }

  function showNotice(text) {
    els.notice.textContent = text;
    els.notice.hidden = false;
    els.listStatus.textContent = "";
    for (const control of [els.sender, els.to, els.search, els.send]) control.disabled = true;
  }

  // -- templates -----------------------------------------------------------------------------------------

  function onSenderChange() {
    chooseTemplate(null);
    els.templates.replaceChildren();
    clearError($("sender-error"), els.sender);
    if (!els.sender.value) {
      els.search.disabled = true;
      els.listStatus.textContent = "Choose a sender to load its approved templates.";
      return;
    }
    els.search.disabled = false;
    loadTemplates();
  }

  function onSearch() {
    window.clearTimeout(state.searchTimer);
    state.searchTimer = window.setTimeout(loadTemplates, SEARCH_DELAY_MS);
  }

  async function loadTemplates() {
    const sender = els.sender.value;
    if (!sender) return;
    const ticket = ++state.listRequest;
    els.listStatus.textContent = "Loading approved templates…";
    const query = new URLSearchParams({ sender: sender, search: els.search.value.trim() });
    let answer;
    try {
      answer = await getJson("api/templates?" + query.toString());
    } catch (_) {
      answer = { ok: false, status: 0, body: { error: "The engine could not be reached: try again." } };
    }
    if (ticket !== state.listRequest) return; // a newer search is on its way
    if (!answer.ok) {
      els.templates.replaceChildren();
      const problems = answer.body.problems || [];
      els.listStatus.textContent = answer.body.error || (problems[0] && problems[0].message) || "Loading failed.";
      return;
    }
    state.templates = answer.body.templates || [];
    renderList();
  }

  function keyOf(template) {
    return template.name + "|" + template.language;
  }

  function renderList() {
    const items = state.templates.map((template) => {
      const chosen = state.current && keyOf(state.current) === keyOf(template);
      const button = el(
        "button",
        { type: "button", className: "template", "aria-pressed": chosen ? "true" : "false" },
        el("span", { className: "name", text: template.name }),
        el("span", { className: "meta", text: `${template.category} · ${template.language}` }),
      );
      button.addEventListener("click", () => chooseTemplate(template));
      return el("li", {}, button);
    });
    els.templates.replaceChildren(...items);
    const count = state.templates.length;
    const searching = els.search.value.trim() !== "";
    els.listStatus.textContent =
      count === 0
        ? searching
          ? "No approved template matches the search."
          : "This sender has no approved template."
        : `${count} approved template${count === 1 ? "" : "s"}${searching ? " match" + (count === 1 ? "es" : "") : ""}.`;
  }

  // -- the form ------------------------------------------------------------------------------------------

  function chooseTemplate(template) {
    state.current = template;
    state.requestId = newRequestId();
    for (const button of els.templates.querySelectorAll(".template")) {
      const name = button.querySelector(".name").textContent;
      const meta = button.querySelector(".meta").textContent;
      const pressed = template && name === template.name && meta.endsWith("· " + template.language);
      button.setAttribute("aria-pressed", pressed ? "true" : "false");
    }
    for (const path of [...state.errors.keys()]) {
      if (path !== "$.to" && path !== "$.sender") state.errors.delete(path); // the old form's fields
    }
    els.fields.replaceChildren();
    clearError(els.formError);
    if (!template) {
      els.form.hidden = true;
      state.inputs = null;
      return;
    }
    els.title.textContent = `${template.name} (${template.language})`;
    state.inputs = buildFields(template);
    els.form.hidden = false;
    els.send.disabled = false;
    renderPreview();
  }

  function buildFields(template) {
    const inputs = { placeholders: [], buttons: [] };
    const header = template.header;
    if (header) {
      const group = el("fieldset", {}, el("legend", { text: "Header" }));
      if (header.format === "TEXT" && header.placeholders > 0) {
        const f = field("Header text {{1}}", "$.header.text", { hint: header.text });
        inputs.headerText = f.input;
        group.append(f.wrap);
      } else if (["IMAGE", "VIDEO", "DOCUMENT"].includes(header.format)) {
        const kind = header.format.toLowerCase();
        const f = field(`Header media URL (${kind})`, "$.header.mediaUrl", {
          type: "url",
          placeholder: "https://",
        });
        inputs.mediaUrl = f.input;
        group.append(f.wrap);
        if (header.format === "DOCUMENT") {
          const name = field("Filename", "$.header.filename", { placeholder: "e.g. invoice.pdf" });
          inputs.filename = name.input;
          group.append(name.wrap);
        }
      } else if (header.format === "LOCATION") {
        const lat = field("Latitude", "$.header.latitude", { type: "number", step: "any" });
        const lon = field("Longitude", "$.header.longitude", { type: "number", step: "any" });
        inputs.latitude = lat.input;
        inputs.longitude = lon.input;
        group.append(lat.wrap, lon.wrap);
      } else {
        group.append(el("p", { className: "hint", text: `Fixed header: ${header.text || ""}` }));
      }
      els.fields.append(group);
    }
    if (template.bodyPlaceholders > 0) {
      const group = el("fieldset", {}, el("legend", { text: "Body" }));
      for (let i = 0; i < template.bodyPlaceholders; i += 1) {
        const f = field(`Body placeholder {{${i + 1}}}`, `$.placeholders[${i}]`);
        inputs.placeholders.push(f.input);
        group.append(f.wrap);
      }
      els.fields.append(group);
    }
    const buttons = template.buttons || [];
    if (buttons.length > 0) {
      const group = el("fieldset", {}, el("legend", { text: "Buttons" }));
      let index = 0;
      for (const button of buttons) {
        if (button.takesParameter) {
          group.append(buttonField(button, index, inputs));
          index += 1;
        } else {
          const value = button.url || button.phoneNumber || "";
          const label = `${button.type === "PHONE_NUMBER" ? "Phone button" : "URL button"} “${button.text}” (fixed)`;
          group.append(field(label, null, { value: value, readonly: true }).wrap);
        }
      }
      els.fields.append(group);
    }
    if (els.fields.childElementCount === 0) {
      els.fields.append(el("p", { className: "hint", text: "This template takes no values." }));
    }
    return inputs;
  }

  function buttonField(button, index, inputs) {
    const path = `$.buttons[${index}]`;
    if (button.type === "QUICK_REPLY") {
      const counter = el("span", { className: "counter", "aria-live": "polite", text: `0/${QUICK_REPLY_MAX}` });
      const f = field(`Quick reply “${button.text}” payload`, path, { counter: counter });
      inputs.buttons.push({ input: f.input, type: button.type, error: f.error, counter: counter });
      f.input.addEventListener("input", () => checkLength(inputs.buttons[index]));
      return f.wrap;
    }
    if (button.type === "COPY_CODE") {
      const f = field(`Copy code “${button.text}”`, path, { placeholder: `at most ${COPY_CODE_MAX} characters` });
      inputs.buttons.push({ input: f.input, type: button.type, error: f.error });
      f.input.addEventListener("input", () => checkLength(inputs.buttons[index]));
      return f.wrap;
    }
    const f = field(`URL button “${button.text}” value`, path, { hint: button.url });
    inputs.buttons.push({ input: f.input, type: button.type, error: f.error });
    return f.wrap;
  }

  // Quick-reply payloads (128) and copy codes (15) are checked as the agent types.
  function checkLength(entry) {
    const limit = entry.type === "QUICK_REPLY" ? QUICK_REPLY_MAX : COPY_CODE_MAX;
    const length = entry.input.value.length;
    if (entry.counter) {
      entry.counter.textContent = `${length}/${limit}`;
      entry.counter.classList.toggle("over", length > limit);
    }
    if (length > limit) {
      const what = entry.type === "QUICK_REPLY" ? "A quick-reply payload" : "A copy code";
      showError(entry.error, entry.input, `${what} has at most ${limit} characters (this one has ${length}).`);
      return false;
    }
    clearError(entry.error, entry.input);
    return true;
  }

  // -- the preview ---------------------------------------------------------------------------------------

  function substituted(text, values) {
    const out = document.createDocumentFragment();
    let last = 0;
    for (const match of text.matchAll(PLACEHOLDER)) {
      out.append(text.slice(last, match.index));
      const value = values[Number(match[1]) - 1];
      out.append(value ? value : el("span", { className: "missing", text: match[0] }));
      last = match.index + match[0].length;
    }
    out.append(text.slice(last));
    return out;
  }

  function renderPreview() {
    const template = state.current;
    const inputs = state.inputs;
    if (!template || !inputs) return;
    const parts = [];
    const header = template.header;
    if (header) {
      if (header.format === "TEXT") {
        const value = inputs.headerText ? inputs.headerText.value : "";
        parts.push(el("div", { className: "p-header" }, substituted(header.text || "", [value])));
      } else if (header.format === "LOCATION") {
        const lat = inputs.latitude.value || "?";
        const lon = inputs.longitude.value || "?";
        parts.push(el("div", { className: "p-media", text: `[Location ${lat}, ${lon}]` }));
      } else {
        const kind = header.format.charAt(0) + header.format.slice(1).toLowerCase();
        const url = inputs.mediaUrl.value.trim() || "no URL yet";
        const name = inputs.filename && inputs.filename.value.trim() ? ` ${inputs.filename.value.trim()}` : "";
        parts.push(el("div", { className: "p-media", text: `[${kind}${name}: ${url}]` }));
      }
    }
    const values = inputs.placeholders.map((input) => input.value);
    parts.push(el("div", { className: "p-body" }, substituted(template.body || "", values)));
    if (template.footer) parts.push(el("div", { className: "p-footer", text: template.footer }));
    if ((template.buttons || []).length > 0) {
      parts.push(el("ul", { className: "p-buttons" }, ...template.buttons.map((b) => el("li", { text: b.text }))));
    }
    els.preview.replaceChildren(...parts);
  }

  // -- sending ---------------------------------------------------------------------------------------------

  function request() {
    const inputs = state.inputs;
    const body = {
      sender: els.sender.value,
      to: els.to.value.trim(),
      templateName: state.current.name,
      language: state.current.language,
      placeholders: inputs.placeholders.map((input) => input.value),
      buttons: inputs.buttons.map((entry) => entry.input.value),
      sessionId: state.sessionId,
      requestId: state.requestId,
    };
    const header = {};
    if (inputs.headerText) header.text = inputs.headerText.value;
    if (inputs.mediaUrl) header.mediaUrl = inputs.mediaUrl.value.trim();
    if (inputs.filename) header.filename = inputs.filename.value.trim();
    if (inputs.latitude) {
      header.latitude = inputs.latitude.value === "" ? null : Number(inputs.latitude.value);
      header.longitude = inputs.longitude.value === "" ? null : Number(inputs.longitude.value);
    }
    if (Object.keys(header).length > 0) body.header = header;
    return body;
  }

  function showProblems(problems) {
    const general = [];
    for (const problem of problems) {
      const error = state.errors.get(problem.path);
      const input = document.querySelector(`[data-path="${CSS.escape(problem.path)}"]`);
      if (error) showError(error, input, problem.message);
      else general.push(problem.message);
    }
    if (general.length > 0) showError(els.formError, null, general.join(" "));
    const first = document.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (state.sending || !state.current) return;
    clearErrors();
    const lengthsOk = state.inputs.buttons.filter((entry) => entry.type !== "URL").map(checkLength).every(Boolean);
    if (!lengthsOk) {
      const first = document.querySelector('[aria-invalid="true"]');
      if (first) first.focus();
      return;
    }
    state.sending = true;
    els.send.disabled = true;
    setStatus("Sending…");
    let answer;
    try {
      answer = await getJson("api/send", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(request()),
      });
    } catch (_) {
      answer = { ok: false, status: 0, body: { error: "The engine could not be reached: press Send again." } };
    }
    state.sending = false;
    els.send.disabled = false;
    if (answer.status === 202) {
      const id = answer.body.messageId;
      state.requestId = newRequestId(); // the next press is a new message
      setStatus(`Message ${id}: queued`);
      poll(id, 0);
      return;
    }
    setStatus("Not sent: see the fields marked.", "failed");
    if (answer.body.problems && answer.body.problems.length > 0) showProblems(answer.body.problems);
    else showError(els.formError, null, answer.body.error || `The engine answered HTTP ${answer.status}.`);
  }

  async function poll(id, tries) {
    if (tries >= POLL_TRIES) return;
    window.setTimeout(async () => {
      let answer;
      try {
        answer = await getJson("api/messages/" + encodeURIComponent(id));
      } catch (_) {
        answer = null;
      }
      if (!els.status.textContent.startsWith(`Message ${id}`)) return; // another message was sent since
      if (answer && answer.ok) {
        const status = answer.body;
        const failed = status.text.startsWith("failed");
        setStatus(`Message ${id}: ${status.text}`, failed ? "failed" : status.final ? "done" : "");
        if (status.final) return;
      }
      poll(id, tries + 1);
    }, tries === 0 ? 500 : POLL_MS);
  }

  // -- wiring ------------------------------------------------------------------------------------------------

  els.sender.addEventListener("change", onSenderChange);
  els.search.addEventListener("input", onSearch);
  els.form.addEventListener("input", renderPreview);
  els.form.addEventListener("submit", onSubmit);
  els.to.addEventListener("input", () => clearError($("to-error"), els.to));
  state.errors.set("$.to", $("to-error"));
  state.errors.set("$.sender", $("sender-error"));
  loadContext();
})();
