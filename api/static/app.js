/* Chat page for the Swedish question-answering service.
 * Plain JavaScript, no build step. Every string that comes from the API is
 * put into the page with textContent / createTextNode, never as HTML. */
(function () {
  "use strict";

  var STORAGE_KEY = "svqa.conversation.v1";
  var K = 5;             // passages asked for per question
  var SHOWN = 3;         // cards shown before "Visa fler"
  var TIMEOUT_MS = 30000;
  var COUNTER_FROM = 0.8; // show the character counter from 80 % of the limit

  var MSG = {
    empty: "Skriv en fråga först.",
    tooLong: function (n) { return "Frågan är för lång (högst " + n + " tecken)."; },
    down: "Tjänsten svarar inte just nu. Försök igen om en stund.",
    busy: "Tjänsten har många frågor just nu. Vänta en stund och försök igen.",
    invalid: function (n) {
      return "Frågan kunde inte skickas. Kontrollera att den inte är tom och högst " + n + " tecken lång.";
    },
    noMatch: "Jag hittade inget som tydligt besvarar frågan.",
    noMatchHelp: "Försök formulera frågan på ett annat sätt, eller fråga om något som dokumenten tar upp.",
    searching: "Söker…",
    docError: "Dokumentet kunde inte hämtas just nu. Försök igen om en stund."
  };

  var state = {
    turns: [],
    maxChars: 1000,
    documents: null
  };
  var controllers = {};  // turn id -> AbortController
  var docCache = {};     // document id -> Promise<document>
  var lastOpener = null;

  var els = {};

  // ---------- small helpers ----------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) return;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key === "hidden") node.hidden = true;
        else node.setAttribute(key, value === true ? "" : String(value));
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function srOnly(text) {
    return el("span", { class: "sr-only", text: text });
  }

  function charCount(s) {
    // Count code points, as the server (Python len) does.
    return Array.from(s).length;
  }

  function collapse(s) {
    return String(s).replace(/\s+/g, " ").trim();
  }

  var MONTHS = ["januari", "februari", "mars", "april", "maj", "juni", "juli",
    "augusti", "september", "oktober", "november", "december"];

  // "s. 3" or "s. 3–4": the page citation of a passage of a document with pages.
  function pageLabel(result) {
    var first = Number(result.page);
    if (!(first > 0)) return "";
    var last = Number(result.page_end);
    return last > first ? "s. " + first + "–" + last : "s. " + first;
  }

  var FORMAT_NAMES = { pdf: "PDF", docx: "Word", odt: "OpenDocument", html: "webbsida",
    md: "Markdown", txt: "text" };

  function sizeLabel(bytes) {
    var n = Number(bytes) || 0;
    if (n < 1000) return n + " byte";
    if (n < 1e6) return Math.round(n / 1000) + " kB";
    return (n / 1e6).toFixed(1).replace(".", ",") + " MB";
  }

  function formatDate(iso) {
    if (!iso) return "";
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso));
    if (!m) return String(iso);
    var month = MONTHS[parseInt(m[2], 10) - 1];
    if (!month) return String(iso);
    return parseInt(m[3], 10) + " " + month + " " + m[1];
  }

  function relevanceLevel(r) {
    var v = typeof r === "number" && isFinite(r) ? Math.max(0, Math.min(1, r)) : 0;
    if (v >= 2 / 3) return { key: "hog", label: "Hög relevans", value: v };
    if (v >= 1 / 3) return { key: "medel", label: "Medel relevans", value: v };
    return { key: "lag", label: "Låg relevans", value: v };
  }

  function uid() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }

  // ---------- persistence ----------

  function save() {
    try {
      var turns = state.turns.map(function (t) {
        return { id: t.id, question: t.question, status: t.status, response: t.response || null, error: t.error || null };
      });
      sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ v: 1, turns: turns }));
    } catch (e) {
      /* storage full or unavailable: the conversation just won't survive a reload */
    }
  }

  function load() {
    try {
      var raw = sessionStorage.getItem(STORAGE_KEY);
      if (!raw) return [];
      var data = JSON.parse(raw);
      if (!data || data.v !== 1 || !Array.isArray(data.turns)) return [];
      return data.turns.filter(function (t) {
        return t && typeof t.id === "string" && typeof t.question === "string";
      });
    } catch (e) {
      return [];
    }
  }

  // ---------- API ----------

  function fetchJSON(url, options, timeoutMs) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, timeoutMs || TIMEOUT_MS);
    var outer = options && options.signal;
    if (outer) {
      if (outer.aborted) controller.abort();
      else outer.addEventListener("abort", function () { controller.abort(); });
    }
    var opts = Object.assign({}, options || {}, { signal: controller.signal });
    return fetch(url, opts).then(function (res) {
      return res.text().then(function (body) {
        var json = null;
        try { json = body ? JSON.parse(body) : null; } catch (e) { json = null; }
        return { ok: res.ok, status: res.status, json: json };
      });
    }).finally(function () { clearTimeout(timer); });
  }

  function getDocument(id) {
    if (!docCache[id]) {
      docCache[id] = fetchJSON("/api/documents/" + encodeURIComponent(id), { headers: { Accept: "application/json" } })
        .then(function (r) {
          if (!r.ok || !r.json || typeof r.json.text !== "string") throw new Error("document " + r.status);
          return r.json;
        });
      docCache[id].catch(function () { delete docCache[id]; });
    }
    return docCache[id];
  }

  // ---------- passage text and highlight mapping ----------

  function cleanSpans(result, limit) {
    var start = Number(result.start) || 0;
    var end = Math.min(limit, Number(result.end) || limit);
    return (Array.isArray(result.highlights) ? result.highlights : [])
      .filter(function (h) { return Array.isArray(h) && h.length >= 2; })
      .map(function (h) { return [Math.max(start, Number(h[0])), Math.min(end, Number(h[1]))]; })
      .filter(function (h) { return h[1] > h[0]; })
      .sort(function (a, b) { return a[0] - b[0]; });
  }

  // The card's view of a passage, built from the document text so that line
  // breaks (lists, headings) survive: runs of spaces become one space, a line
  // break stays a line break, blank lines become one blank line. Highlights
  // are in document coordinates, so they map directly. Returns segments
  // [[text, marked], ...], or null when the result does not match the document.
  function buildView(result, docText) {
    var start = Number(result.start);
    var end = Number(result.end);
    if (!(start >= 0) || !(end > start) || end > docText.length) return null;
    var flags = new Uint8Array(end - start);
    cleanSpans(result, end).forEach(function (h) {
      for (var i = h[0]; i < h[1]; i++) flags[i - start] = 1;
    });
    var out = [];   // [char, flag]
    var i = start;
    var isWs = /\s/;
    while (i < end) {
      var ch = docText.charAt(i);
      if (!isWs.test(ch)) { out.push([ch, flags[i - start]]); i++; continue; }
      var j = i, breaks = 0;
      while (j < end && isWs.test(docText.charAt(j))) { if (docText.charAt(j) === "\n") breaks++; j++; }
      if (out.length && j < end) {
        var flag = flags[i - start] && flags[j - start] ? 1 : 0;
        var sep = breaks >= 2 ? "\n\n" : breaks === 1 ? "\n" : " ";
        for (var k = 0; k < sep.length; k++) out.push([sep.charAt(k), flag]);
      }
      i = j;
    }
    var segments = [];
    out.forEach(function (c) {
      var last = segments[segments.length - 1];
      if (last && last[1] === c[1]) last[0] += c[0]; else segments.push([c[0], c[1]]);
    });
    var joined = segments.map(function (sg) { return sg[0]; }).join("");
    if (collapse(joined) !== collapse(result.text || "")) return null;
    return segments;
  }

  // Fallback when the document view cannot be built: find each highlight's
  // (collapsed) text inside the API's collapsed passage text.
  function computeMarks(result, docText) {
    var text = String(result.text || "");
    var start = Number(result.start) || 0;
    var marks = [];
    var cursor = 0;
    cleanSpans(result, docText.length).forEach(function (h) {
      var needle = collapse(docText.slice(h[0], h[1]));
      if (!needle) return;
      var estimate = collapse(docText.slice(start, h[0])).length;
      var idx = text.indexOf(needle, Math.max(cursor, estimate - 3));
      if (idx < 0) idx = text.indexOf(needle, cursor);
      if (idx < 0) return;
      marks.push([idx, idx + needle.length]);
      cursor = idx + needle.length;
    });
    return marks;
  }

  function renderPassage(container, result) {
    container.textContent = "";
    if (Array.isArray(result._view)) {
      result._view.forEach(function (sg) {
        var text = String(sg[0]);
        container.appendChild(sg[1] ? el("mark", { class: "answer-mark", text: text }) : document.createTextNode(text));
      });
      return;
    }
    var text = String(result.text || "");
    var pos = 0;
    (result._marks || []).forEach(function (m) {
      if (m[0] < pos || m[1] > text.length) return;
      if (m[0] > pos) container.appendChild(document.createTextNode(text.slice(pos, m[0])));
      container.appendChild(el("mark", { class: "answer-mark", text: text.slice(m[0], m[1]) }));
      pos = m[1];
    });
    if (pos < text.length) container.appendChild(document.createTextNode(text.slice(pos)));
  }

  function enhancePassages(turn) {
    var results = turn.response && Array.isArray(turn.response.results) ? turn.response.results : [];
    results.forEach(function (result, i) {
      if (result._view || result._marks || !result.document_id) return;
      getDocument(result.document_id).then(function (doc) {
        var view = buildView(result, doc.text);
        if (view) result._view = view;
        else result._marks = computeMarks(result, doc.text);
        save();
        var node = document.querySelector('[data-turn="' + turn.id + '"] [data-result="' + i + '"] .passage');
        if (node) renderPassage(node, result);
      }).catch(function () { /* the passage is shown as the API gave it, without a highlight */ });
    });
  }

  // ---------- rendering: conversation ----------

  function renderAll() {
    els.conversation.textContent = "";
    state.turns.forEach(function (t) { els.conversation.appendChild(renderTurn(t)); });
    updateChrome();
  }

  function updateChrome() {
    var has = state.turns.length > 0;
    els.empty.hidden = has;
    els.newConv.hidden = !has;
    document.body.classList.toggle("has-conversation", has);
  }

  function renderTurn(turn) {
    var node = el("article", { class: "turn", "data-turn": turn.id, "aria-label": "Fråga och svar" });
    var q = el("div", { class: "question" }, [
      el("h2", { class: "question-text" }, [srOnly("Din fråga: "), turn.question])
    ]);
    node.appendChild(q);
    node.appendChild(renderAnswer(turn));
    return node;
  }

  // Only the answer part is swapped, so the live region announces the new
  // answer and not the question again.
  function replaceTurn(turn) {
    var node = els.conversation.querySelector('[data-turn="' + turn.id + '"]');
    if (!node) {
      node = renderTurn(turn);
      els.conversation.appendChild(node);
      return node;
    }
    var old = node.querySelector(".answer");
    var fresh = renderAnswer(turn);
    if (old) old.replaceWith(fresh); else node.appendChild(fresh);
    return node;
  }

  function renderAnswer(turn) {
    var answer = el("div", { class: "answer" });
    if (turn.status === "pending") {
      answer.setAttribute("aria-busy", "true");
      answer.classList.add("is-loading");
      answer.appendChild(el("p", { class: "loading", role: "status" }, [
        el("span", { class: "spinner", "aria-hidden": "true" }), MSG.searching
      ]));
      return answer;
    }
    answer.setAttribute("aria-busy", "false");
    if (turn.status === "error") {
      var err = turn.error || { kind: "down" };
      var text = err.kind === "invalid" ? MSG.invalid(state.maxChars) : err.kind === "busy" ? MSG.busy : MSG.down;
      var box = el("div", { class: "notice notice-error" }, [el("p", { text: text })]);
      if (err.kind !== "invalid") {
        var retry = el("button", { type: "button", class: "btn btn-secondary retry" }, ["Försök igen"]);
        retry.addEventListener("click", function () { runTurn(turn, true); });
        box.appendChild(retry);
      }
      answer.appendChild(box);
      return answer;
    }

    var response = turn.response || {};
    var results = Array.isArray(response.results) ? response.results : [];

    if (response.no_good_match || results.length === 0) {
      answer.appendChild(el("div", { class: "notice notice-nomatch" }, [
        el("p", { class: "notice-title", text: MSG.noMatch }),
        el("p", { class: "notice-help", text: MSG.noMatchHelp })
      ]));
      if (results.length > 0) {
        var details = el("details", { class: "weak-results" }, [
          el("summary", {}, ["Visa osäkra träffar (" + results.length + ")"])
        ]);
        var weakList = el("ol", { class: "cards", "aria-label": "Osäkra träffar" });
        results.forEach(function (r, i) { weakList.appendChild(renderCard(r, i, true)); });
        details.appendChild(weakList);
        answer.appendChild(details);
      }
      return answer;
    }

    answer.appendChild(el("p", { class: "answer-intro" }, [
      results.length === 1 ? "Det här stycket besvarar bäst frågan:" : "De här styckena besvarar bäst frågan:"
    ]));
    var list = el("ol", { class: "cards", "aria-label": "Källor" });
    results.forEach(function (r, i) {
      var card = renderCard(r, i, false);
      if (i >= SHOWN) card.hidden = true;
      list.appendChild(card);
    });
    answer.appendChild(list);
    if (results.length > SHOWN) {
      var rest = results.length - SHOWN;
      var more = el("button", { type: "button", class: "btn btn-link show-more", "aria-expanded": "false" },
        ["Visa fler källor (" + rest + ")"]);
      more.addEventListener("click", function () {
        var hidden = list.querySelectorAll(".card[hidden]");
        hidden.forEach(function (c) { c.hidden = false; });
        more.remove();
        var first = hidden[0] && hidden[0].querySelector(".card-open");
        if (first) first.focus();
      });
      answer.appendChild(more);
    }
    return answer;
  }

  function renderCard(result, index, uncertain) {
    var rank = Number(result.rank) || index + 1;
    var rel = relevanceLevel(result.relevance);
    var titleId = "card-" + uid();
    var title = String(result.title || "Namnlöst dokument");

    var metaParts = [];
    if (result.section) metaParts.push(String(result.section));
    var pages = pageLabel(result);
    if (pages) metaParts.push(pages);
    if (result.date) metaParts.push(formatDate(result.date));

    var relNode = el("span", {
      class: "relevance rel-" + rel.key,
      title: "Relevans " + Math.round(rel.value * 100) + " %"
    }, [
      el("span", { class: "rel-bar", "aria-hidden": "true" }, [
        el("span", { class: "rel-fill", style: "width:" + Math.max(6, Math.round(rel.value * 100)) + "%" })
      ]),
      el("span", { class: "rel-label", text: uncertain ? "Osäker träff" : rel.label })
    ]);

    var head = el("div", { class: "card-head" }, [
      el("span", { class: "rank", "aria-hidden": "true", text: String(rank) }),
      el("div", { class: "card-source" }, [
        el("p", { class: "source-kicker" }, ["Källa " + rank]),
        el("h3", { class: "card-title", id: titleId, text: title }),
        metaParts.length ? el("p", { class: "card-meta" }, metaParts.map(function (part, i) {
          return el("span", { class: i === metaParts.length - 1 && result.date ? "meta-date" : "meta-section" },
            [(i ? " · " : "") + part]);
        })) : null
      ]),
      relNode
    ]);

    var passage = el("blockquote", { class: "passage" });
    renderPassage(passage, result);

    var open = el("button", { type: "button", class: "btn btn-secondary card-open" }, [
      "Visa i dokumentet", srOnly(": " + title)
    ]);
    open.addEventListener("click", function () { openDocument(result, open); });

    return el("li", {
      class: "card" + (uncertain ? " is-uncertain" : ""),
      "data-result": index,
      "aria-labelledby": titleId
    }, [head, passage, el("div", { class: "card-foot" }, [open])]);
  }

  // ---------- asking ----------

  function validate(q) {
    if (!q) return MSG.empty;
    if (charCount(q) > state.maxChars) return MSG.tooLong(state.maxChars);
    return "";
  }

  function showFieldError(message) {
    els.error.textContent = message;
    els.input.setAttribute("aria-invalid", message ? "true" : "false");
    els.form.classList.toggle("has-error", !!message);
  }

  function ask(raw) {
    var q = String(raw || "").trim();
    var problem = validate(q);
    if (problem) {
      showFieldError(problem);
      els.input.focus();
      return false;
    }
    showFieldError("");
    var turn = { id: uid(), question: q, status: "pending", response: null, error: null };
    state.turns.push(turn);
    runTurn(turn, false);
    return true;
  }

  function runTurn(turn, isRetry) {
    if (controllers[turn.id]) controllers[turn.id].abort();
    var controller = new AbortController();
    controllers[turn.id] = controller;
    turn.status = "pending";
    turn.error = null;
    turn.response = null;
    save();
    var node = replaceTurn(turn);
    updateChrome();
    if (isRetry) {
      // The retry button is gone: keep the keyboard position on this answer.
      var pending = node.querySelector(".answer");
      pending.tabIndex = -1;
      pending.focus({ preventScroll: true });
    } else {
      scrollToEnd();
    }

    fetchJSON("/api/search", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ question: turn.question, k: K }),
      signal: controller.signal
    }).then(function (r) {
      if (r.ok && r.json && Array.isArray(r.json.results)) {
        turn.status = "done";
        turn.response = r.json;
      } else {
        turn.status = "error";
        var kind = "down";
        if (r.status === 422 || r.status === 400 || r.status === 413) kind = "invalid";
        else if (r.status === 429) kind = "busy";
        turn.error = { kind: kind, status: r.status };
      }
    }).catch(function () {
      turn.status = "error";
      turn.error = { kind: "down", status: 0 };
    }).then(function () {
      if (controllers[turn.id] !== controller) return; // superseded or cleared
      delete controllers[turn.id];
      if (state.turns.indexOf(turn) < 0) return;
      save();
      var fresh = replaceTurn(turn);
      if (turn.status === "done") enhancePassages(turn);
      if (turn === state.turns[state.turns.length - 1]) scrollToTurn(fresh);
      if (isRetry) {
        var focusTarget = fresh.querySelector(".card-open, .retry");
        if (focusTarget) focusTarget.focus();
      }
    });
  }

  // A new question: show the end of the conversation ("Söker…" just above the question box).
  function scrollToEnd() {
    window.scrollTo({ top: document.documentElement.scrollHeight, behavior: "auto" });
  }

  // An answer arrived: bring its question to the top so the answer can be read from the start.
  function scrollToTurn(node) {
    if (!node || !node.scrollIntoView) return;
    node.scrollIntoView({ block: "start", behavior: "auto" });
  }

  function clearConversation() {
    Object.keys(controllers).forEach(function (id) { controllers[id].abort(); });
    controllers = {};
    state.turns = [];
    save();
    renderAll();
    showFieldError("");
    els.input.value = "";
    updateCounter();
    autoGrow();
    els.input.focus();
  }

  // ---------- composer ----------

  function updateCounter() {
    var n = charCount(els.input.value.trim());
    var max = state.maxChars;
    var show = n >= Math.floor(max * COUNTER_FROM);
    els.counter.hidden = !show;
    if (show) {
      els.counter.textContent = n + " av " + max + " tecken";
      els.counter.classList.toggle("is-over", n > max);
    }
    if (n > max) {
      if (els.error.textContent !== MSG.tooLong(max)) showFieldError(MSG.tooLong(max));
    } else if (els.error.textContent && (els.error.textContent === MSG.tooLong(max) || n > 0)) {
      showFieldError("");
    }
  }

  function autoGrow() {
    var ta = els.input;
    ta.style.height = "auto";
    var max = Math.round(window.innerHeight * 0.3);
    ta.style.height = Math.min(ta.scrollHeight + 2, Math.max(max, 120)) + "px";
  }

  function onSubmit(ev) {
    ev.preventDefault();
    if (ask(els.input.value)) {
      els.input.value = "";
      updateCounter();
      autoGrow();
    }
  }

  function onKeydown(ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
      ev.preventDefault();
      if (typeof els.form.requestSubmit === "function") els.form.requestSubmit();
      else onSubmit(ev);
    }
  }

  // ---------- empty state ----------

  function renderDocumentList() {
    var list = els.docList;
    var heading = document.getElementById("documents-title");
    list.textContent = "";
    var docs = state.documents;
    var base = " och visar de stycken som bäst besvarar din fråga, alltid med källa.";
    if (!docs || docs.length === 0) {
      els.intro.textContent = docs ? "Det finns inga dokument i samlingen ännu."
        : "Jag söker i dokumentsamlingen" + base + " Listan över dokument kunde inte hämtas just nu.";
      list.hidden = true;
      heading.hidden = true;
      return;
    }
    els.intro.textContent = "Jag söker i " + (docs.length === 1 ? "ett dokument" : docs.length + " dokument") +
      base + " Ställ en egen fråga eller prova ett exempel.";
    heading.textContent = "Dokumenten i samlingen (" + docs.length + ")";
    docs.forEach(function (d) {
      var item = el("li", { class: "document-item" }, [
        el("span", { class: "document-title", text: String(d.title || d.id || "Namnlöst dokument") })
      ]);
      if (d.date) item.appendChild(el("span", { class: "document-date", text: formatDate(d.date) }));
      list.appendChild(item);
    });
    list.hidden = false;
    heading.hidden = false;
  }

  function loadMeta() {
    fetchJSON("/health", { headers: { Accept: "application/json" } }, 10000).then(function (r) {
      if (r.ok && r.json && Number(r.json.max_question_chars) > 0) {
        state.maxChars = Number(r.json.max_question_chars);
        updateCounter();
      }
    }).catch(function () { /* keep the default limit */ });

    fetchJSON("/api/documents", { headers: { Accept: "application/json" } }, 10000).then(function (r) {
      state.documents = r.ok && r.json && Array.isArray(r.json.documents) ? r.json.documents : null;
      renderDocumentList();
    }).catch(function () {
      state.documents = null;
      renderDocumentList();
    });
  }

  // ---------- document dialog ----------

  function openDocument(result, opener) {
    lastOpener = opener || document.activeElement;
    var dlg = els.dialog;
    els.docTitle.textContent = String(result.title || "Dokument");
    els.docMeta.textContent = result.date ? formatDate(result.date) : "";
    els.docBody.textContent = "";
    els.docBody.setAttribute("aria-busy", "true");
    els.docBody.appendChild(el("p", { class: "loading" }, [
      el("span", { class: "spinner", "aria-hidden": "true" }), "Hämtar dokumentet…"
    ]));
    if (!dlg.open) {
      if (typeof dlg.showModal === "function") dlg.showModal(); else dlg.setAttribute("open", "");
    }
    document.body.classList.add("dialog-open");
    els.docClose.focus();

    getDocument(result.document_id).then(function (doc) {
      if (!dlg.open) return;
      els.docTitle.textContent = String(doc.title || result.title || "Dokument");
      var meta = [];
      if (doc.date) meta.push(formatDate(doc.date));
      if (result.section) meta.push("Avsnitt: " + String(result.section));
      var pages = pageLabel(result);
      if (pages) meta.push("Sida: " + pages.slice(3));
      els.docMeta.textContent = meta.join(" · ");
      if (doc.original && doc.original.url) {
        var kind = FORMAT_NAMES[doc.format] || String(doc.format || "fil");
        els.docMeta.appendChild(document.createTextNode(meta.length ? " · " : ""));
        els.docMeta.appendChild(el("a", { class: "doc-original", href: String(doc.original.url),
          download: String(doc.original.filename || "").split("/").pop() || null },
          ["Ladda ner originalet (" + kind + ", " + sizeLabel(doc.original.size) + ")"]));
      }
      var target = Array.isArray(doc.blocks) && doc.blocks.length
        ? renderDocumentBlocks(doc, result) : renderDocumentText(doc.text, result);
      els.docBody.setAttribute("aria-busy", "false");
      if (target) {
        requestAnimationFrame(function () { scrollPassageIntoView(target); });
      }
    }).catch(function () {
      if (!dlg.open) return;
      els.docBody.textContent = "";
      els.docBody.setAttribute("aria-busy", "false");
      els.docBody.appendChild(el("p", { class: "notice notice-error", text: MSG.docError }));
    });
  }

  function renderDocumentText(text, result) {
    var body = els.docBody;
    body.textContent = "";
    var len = text.length;
    var start = Math.max(0, Math.min(len, Number(result.start) || 0));
    var end = Math.max(start, Math.min(len, Number(result.end) || start));
    var hs = (Array.isArray(result.highlights) ? result.highlights : [])
      .filter(function (h) { return Array.isArray(h) && h.length >= 2; })
      .map(function (h) { return [Math.max(start, Number(h[0])), Math.min(end, Number(h[1]))]; })
      .filter(function (h) { return h[1] > h[0]; })
      .sort(function (a, b) { return a[0] - b[0]; });

    body.appendChild(legend(hs.length > 0));

    var pre = el("div", { class: "doc-text" });
    if (start > 0) pre.appendChild(document.createTextNode(text.slice(0, start)));
    var passage = el("mark", { class: "passage-mark", id: "doc-passage", tabindex: "-1" });
    passage.appendChild(srOnly("Början på citerat stycke. "));
    var pos = start;
    hs.forEach(function (h) {
      if (h[0] < pos) return;
      if (h[0] > pos) passage.appendChild(document.createTextNode(text.slice(pos, h[0])));
      passage.appendChild(el("mark", { class: "answer-mark", text: text.slice(h[0], h[1]) }));
      pos = h[1];
    });
    if (pos < end) passage.appendChild(document.createTextNode(text.slice(pos, end)));
    passage.appendChild(srOnly(" Slut på citerat stycke."));
    pre.appendChild(passage);
    if (end < len) pre.appendChild(document.createTextNode(text.slice(end)));
    body.appendChild(pre);
    body.scrollTop = 0;
    return passage;
  }

  // The document with its structure: each block (heading, paragraph, list
  // item, table row, preformatted text) becomes its element, pages are marked,
  // and the cited passage and the answering sentences are marked inside the
  // blocks they cover. Offsets are the API's document offsets.
  function renderDocumentBlocks(doc, result) {
    var body = els.docBody;
    var text = String(doc.text);
    body.textContent = "";
    var len = text.length;
    var start = Math.max(0, Math.min(len, Number(result.start) || 0));
    var end = Math.max(start, Math.min(len, Number(result.end) || start));
    var hs = cleanSpans({ start: start, end: end, highlights: result.highlights }, end);
    body.appendChild(legend(hs.length > 0));

    var pages = (Array.isArray(doc.pages) ? doc.pages : []).slice().sort(function (a, b) { return a.start - b.start; });
    var nextPage = 0;
    var root = el("div", { class: "doc-text doc-structured" });
    var list = null;
    var first = null;
    doc.blocks.forEach(function (b) {
      var bs = Number(b.start), be = Number(b.end);
      if (!(be > bs) || be > len) return;
      while (nextPage < pages.length && Number(pages[nextPage].start) <= bs) {
        root.appendChild(el("p", { class: "doc-page" }, ["Sida " + pages[nextPage].number]));
        list = null;
        nextPage++;
      }
      var node;
      if (b.kind === "heading") {
        node = el("h" + Math.min(6, Math.max(3, Number(b.level || 1) + 2)), { class: "doc-heading" });
      } else if (b.kind === "list_item") {
        if (!list) { list = el("ul", { class: "doc-list" }); root.appendChild(list); }
        node = el("li", { class: "doc-li depth-" + Math.min(4, Math.max(1, Number(b.level) || 1)) });
        // Plain text keeps its own list markers ("– ", "1. "): no second bullet then.
        if (/^(?:[-–•*·]|\d{1,2}[.)])\s/.test(text.slice(bs, be))) node.classList.add("has-marker");
      } else if (b.kind === "preformatted") {
        node = el("pre", { class: "doc-pre" });
      } else if (b.kind === "table_row") {
        node = el("p", { class: "doc-row" });
      } else {
        node = el("p", { class: "doc-p" });
      }
      if (b.kind !== "list_item") list = null;
      var mark = fillBlock(node, text, bs, be, start, end, hs);
      if (mark && !first) first = mark;
      if (b.kind === "list_item") list.appendChild(node); else root.appendChild(node);
    });
    if (first) {
      first.id = "doc-passage";
      first.setAttribute("tabindex", "-1");
      first.insertBefore(srOnly("Början på citerat stycke. "), first.firstChild);
    }
    body.appendChild(root);
    body.scrollTop = 0;
    return first;
  }

  // Text of [bs, be) into node; the part inside the passage [ps, pe) goes in
  // a passage mark, highlights inside it in answer marks. Returns that mark.
  function fillBlock(node, text, bs, be, ps, pe, hs) {
    var a = Math.max(bs, ps), b = Math.min(be, pe);
    if (!(b > a)) {
      node.appendChild(document.createTextNode(text.slice(bs, be)));
      return null;
    }
    if (a > bs) node.appendChild(document.createTextNode(text.slice(bs, a)));
    var mark = el("mark", { class: "passage-mark" });
    var pos = a;
    hs.forEach(function (h) {
      var x = Math.max(h[0], pos), y = Math.min(h[1], b);
      if (y <= x) return;
      if (x > pos) mark.appendChild(document.createTextNode(text.slice(pos, x)));
      mark.appendChild(el("mark", { class: "answer-mark", text: text.slice(x, y) }));
      pos = y;
    });
    if (pos < b) mark.appendChild(document.createTextNode(text.slice(pos, b)));
    node.appendChild(mark);
    if (b < be) node.appendChild(document.createTextNode(text.slice(b, be)));
    return mark;
  }

  function legend(withAnswer) {
    return el("p", { class: "doc-legend" }, [
      el("span", { class: "legend-swatch legend-passage", "aria-hidden": "true" }), "Citerat stycke",
      withAnswer ? el("span", { class: "legend-swatch legend-answer", "aria-hidden": "true" }) : null,
      withAnswer ? "Meningen som besvarar frågan" : null
    ]);
  }

  // Scroll only the dialog's text area (scrollIntoView would also move the
  // dialog box itself on small screens). .doc-body is position: relative.
  function scrollPassageIntoView(target) {
    var body = els.docBody;
    var room = body.clientHeight;
    var top = target.offsetTop;
    var height = target.offsetHeight;
    var wanted = height < room * 0.8 ? top - (room - height) / 2 : top - 24;
    body.scrollTop = Math.max(0, wanted);
  }

  function closeDialog() {
    if (els.dialog.open) els.dialog.close();
  }

  function onDialogClose() {
    document.body.classList.remove("dialog-open");
    var back = lastOpener;
    lastOpener = null;
    if (back && document.body.contains(back)) back.focus();
    else els.input.focus();
  }

  // ---------- start ----------

  function init() {
    els.form = document.getElementById("ask-form");
    els.input = document.getElementById("question");
    els.error = document.getElementById("question-error");
    els.counter = document.getElementById("char-counter");
    els.conversation = document.getElementById("conversation");
    els.empty = document.getElementById("empty-state");
    els.intro = document.getElementById("corpus-intro");
    els.docList = document.getElementById("document-list");
    els.newConv = document.getElementById("new-conversation");
    els.dialog = document.getElementById("doc-dialog");
    els.docTitle = document.getElementById("doc-title");
    els.docMeta = document.getElementById("doc-meta");
    els.docBody = document.getElementById("doc-body");
    els.docClose = document.getElementById("doc-close");

    els.form.addEventListener("submit", onSubmit);
    els.input.addEventListener("keydown", onKeydown);
    els.input.addEventListener("input", function () { updateCounter(); autoGrow(); });
    els.newConv.addEventListener("click", clearConversation);
    document.querySelectorAll(".example").forEach(function (b) {
      b.addEventListener("click", function () {
        if (ask(b.textContent)) els.input.focus();
      });
    });
    els.docClose.addEventListener("click", closeDialog);
    els.dialog.addEventListener("close", onDialogClose);
    els.dialog.addEventListener("click", function (ev) {
      if (ev.target === els.dialog) closeDialog(); // click on the backdrop
    });

    state.turns = load();
    renderAll();
    state.turns.forEach(function (t) {
      if (t.status === "pending") runTurn(t, false); // interrupted by the reload: ask again
      else if (t.status === "done") enhancePassages(t);
    });
    var last = els.conversation.lastElementChild;
    if (last) last.scrollIntoView({ block: "start" });
    loadMeta();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
