/* Chat page for the Swedish question-answering service.
 * Plain JavaScript, no build step. Every string that comes from the API is
 * put into the page with textContent / createTextNode, never as HTML. */
(function () {
  "use strict";

  // A service of collections serves this page at /c/NAME for collection NAME: every request
  // then goes to that collection's API, and the conversation and keys stored are its own.
  // At / such a service shows the collections to choose from instead (the picker).
  var BOUND = (function () {
    var m = /^\/c\/([A-Za-z0-9][A-Za-z0-9_-]{0,63})\/?$/.exec(window.location.pathname);
    return m ? m[1] : null;
  })();
  var API = BOUND ? "/api/collections/" + BOUND : "/api";
  var HEALTH = BOUND ? API + "/health" : "/health";
  var OWN = BOUND ? ":" + BOUND : "";
  var STORAGE_KEY = "svqa.conversation.v1" + OWN;
  var SCOPE_KEY = "svqa.scope.v1" + OWN;       // the documents questions are limited to
  var SHARED_READ_KEY = "svqa.readKey";        // a key given in the picker: tried everywhere
  var READ_KEY = SHARED_READ_KEY + OWN;        // keys live in sessionStorage only: gone with the tab,
  var ADMIN_KEY = "svqa.adminKey" + OWN;       // never in localStorage, a cookie or the URL
  var WIDE = "(min-width: 1000px)";    // from here the documents panel is a column
  var K = 5;             // passages asked for per question
  var SHOWN = 3;         // cards shown before "Visa fler"
  var HISTORY = 10;      // earlier questions sent with a new one (the API's most)
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
    docError: "Dokumentet kunde inte hämtas just nu. Försök igen om en stund.",
    auth: "Tjänsten kräver en åtkomstnyckel.",
    noMatchScoped: "Jag hittade inget som tydligt besvarar frågan i de valda dokumenten.",
    noMatchScopedHelp: "Frågan ställdes bara i de valda dokumenten. Fråga i alla dokument för att söka i hela samlingen.",
    adminOn: "Du kan nu lägga till och ta bort dokument.",
    adminWrong: "Fel administratörsnyckel. Kontrollera nyckeln och försök igen.",
    adminOff: BOUND
      ? "Att lägga till och ta bort dokument är avstängt för den här samlingen. Den som driftar tjänsten kan slå på det med admin_token i samlingens access.toml."
      : "Att lägga till och ta bort dokument är avstängt på servern. Den som driftar tjänsten kan slå på det med inställningen QA_ADMIN_TOKEN.",
    noCollection: "Det finns ingen samling med det namnet här, eller så har den tagits bort.",
    pickIntro: "Tjänsten har flera dokumentsamlingar. Välj den samling du vill ställa frågor till.",
    pickNone: "Det finns ingen samling som du kan läsa utan åtkomstnyckel.",
    pickError: "Listan över samlingar kunde inte hämtas just nu. Försök igen om en stund.",
    keyOpensNothing: "Nyckeln öppnar ingen samling. Kontrollera nyckeln och försök igen.",
    adminEmpty: "Skriv administratörsnyckeln först.",
    adminDown: "Servern svarar inte just nu. Försök igen om en stund.",
    accessWrong: "Fel åtkomstnyckel. Kontrollera nyckeln och försök igen.",
    listError: "Listan över dokument kunde inte hämtas just nu."
  };

  var STATUS_WORDS = { added: "Tillagt", replaced: "Ersatt", unchanged: "Oförändrat, samma innehåll fanns redan",
    skipped: "Hoppades över", deleted: "Borttaget" };

  // Why the server skipped a file, in Swedish. The server's reason is "<kind>" or "<kind>: <detail>".
  var SKIP_REASONS = {
    "empty": "filen är tom eller saknar text",
    "corrupt": "filen är skadad eller gick inte att tolka",
    "unsupported type": "filtypen stöds inte",
    "too large": "filen är för stor",
    "binary": "filen innehåller inte text",
    "encrypted": "PDF-filen är lösenordsskyddad",
    "no text layer": "sidorna är inskannade bilder utan text",
    "unreadable": "filen gick inte att läsa",
    "duplicate id": "en annan fil i samma uppladdning har samma namn",
    "invalid id": "filnamnet kan inte användas som dokumentnamn",
    "hidden": "dolda filer läses inte",
    "timed out": "det tog för lång tid att läsa filen, och läsningen avbröts",
    "crashed": "programmet som läser filtypen kraschade på filen",
    "out of memory": "filen krävde för mycket minne för att läsas",
    "navigation only": "sidan innehåller bara länkar (register eller innehållsförteckning)"
  };

  var state = {
    turns: [],
    maxChars: 1000,
    documents: null,      // [{id, title, date, format, pages, ...}] or null (not loaded)
    documentsError: 0,    // HTTP status of a failed list request (0: unreachable)
    listLoading: true,
    maxUploadMb: 0,       // the server's limit on a write, when /health tells it
    examples: [],
    generation: null,     // the index generation the list shows
    selected: {},         // id -> true: ticked in the panel
    scope: null,          // {ids: [...], titles: {id: title}}: questions are limited to these
    filter: "",
    readKey: "",
    adminKey: ""
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
        // Through the CSSOM: the Content-Security-Policy refuses style attributes.
        else if (key === "style") node.style.cssText = String(value);
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
    md: "Markdown", txt: "text", epub: "e-bok", pptx: "PowerPoint", xlsx: "Excel",
    ods: "OpenDocument-kalkyl", rtf: "RTF", eml: "e-post" };

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

  // The service's relevance never rises as rank falls, and a hit below its relevance floor
  // (relevance 0) is weak: it is labelled "Låg" and has no highlight.
  function relevanceLevel(r) {
    var v = typeof r === "number" && isFinite(r) ? Math.max(0, Math.min(1, r)) : 0;
    if (v >= 1 / 2) return { key: "hog", label: "Hög relevans", value: v };
    if (v > 0) return { key: "medel", label: "Medel relevans", value: v };
    return { key: "lag", label: "Låg relevans", value: v };
  }

  function uid() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }

  // ---------- persistence ----------

  function stored(key) {
    try { return sessionStorage.getItem(key) || ""; } catch (e) { return ""; }
  }

  function store(key, value) {
    try {
      if (value) sessionStorage.setItem(key, value); else sessionStorage.removeItem(key);
    } catch (e) { /* no storage: the value lasts until the page is left */ }
  }

  function save() {
    try {
      var turns = state.turns.map(function (t) {
        return { id: t.id, question: t.question, status: t.status, response: t.response || null,
          error: t.error || null, scope: t.scope || null, history: t.history || null };
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

  // Headers of a read: the access key (or the admin key, which also reads) when there is one.
  function readHeaders(extra) {
    var headers = Object.assign({ Accept: "application/json" }, extra || {});
    var key = state.readKey || state.adminKey;
    if (key) headers.Authorization = "Bearer " + key;
    return headers;
  }

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
      docCache[id] = fetchJSON(API + "/documents/" + encodeURIComponent(id), { headers: readHeaders() })
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

  // The card's view of a passage. `chars` are its characters (code points, as the service
  // counts offsets) from document offset `start` on: the API's `text` is exactly the document's
  // text[start:end], and highlights are document spans, so a highlight [a, b) marks
  // chars[a - start .. b - start). Runs of spaces become one space, a line break stays a line
  // break and blank lines become one blank line, so lists and headings keep their lines.
  // Returns segments [[text, marked], ...], or null when `chars` do not span [start, end).
  function buildView(result, chars) {
    var start = Number(result.start);
    var end = Number(result.end);
    if (!(start >= 0) || !(end > start) || chars.length !== end - start) return null;
    var flags = new Uint8Array(end - start);
    cleanSpans(result, end).forEach(function (h) {
      for (var i = h[0]; i < h[1]; i++) flags[i - start] = 1;
    });
    var out = [];   // [char, flag]
    var n = chars.length;
    var i = 0;
    var isWs = /\s/;
    while (i < n) {
      var ch = chars[i];
      if (!isWs.test(ch)) { out.push([ch, flags[i]]); i++; continue; }
      var j = i, breaks = 0;
      while (j < n && isWs.test(chars[j])) { if (chars[j] === "\n") breaks++; j++; }
      if (out.length && j < n) {
        var flag = flags[i] && flags[j] ? 1 : 0;
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
    return segments;
  }

  // `plain`: a candidate shown under "no clear answer" marks nothing as the answer.
  function renderPassage(container, result, plain) {
    container.textContent = "";
    var view = result._view || buildView(result, Array.from(String(result.text || "")));
    if (!view) {  // an answer kept from an older service (collapsed text): shown unmarked
      container.appendChild(document.createTextNode(String(result.text || "")));
      return;
    }
    view.forEach(function (sg) {
      var text = String(sg[0]);
      container.appendChild(sg[1] && !plain ? el("mark", { class: "answer-mark", text: text }) : document.createTextNode(text));
    });
  }

  // Answers kept in the session from an older service carry collapsed text, which the offsets
  // do not index: their view is built from the document instead, when the document still
  // holds that text.
  function enhancePassages(turn) {
    var results = turn.response && Array.isArray(turn.response.results) ? turn.response.results : [];
    results.forEach(function (result, i) {
      if (result._view || !result.document_id) return;
      if (buildView(result, Array.from(String(result.text || "")))) return;
      getDocument(result.document_id).then(function (doc) {
        var chars = Array.from(doc.text).slice(Number(result.start) || 0, Number(result.end) || 0);
        if (collapse(chars.join("")) !== collapse(result.text || "")) return;
        var view = buildView(result, chars);
        if (!view) return;
        result._view = view;
        save();
        var node = document.querySelector('[data-turn="' + turn.id + '"] [data-result="' + i + '"] .passage');
        if (node) renderPassage(node, result, !!turn.response.no_good_match);
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
    var scope = scopeLabel(turn.scope);
    if (scope) node.appendChild(el("p", { class: "turn-scope" }, [scope]));
    node.appendChild(renderAnswer(turn));
    return node;
  }

  // "Bara i Parkeringspolicy" / "Bara i 3 valda dokument: A, B, C"
  function scopeLabel(scope) {
    if (!scope || !Array.isArray(scope.ids) || !scope.ids.length) return "";
    var titles = scope.ids.map(function (id) { return String((scope.titles || {})[id] || id); });
    if (titles.length === 1) return "Bara i " + titles[0];
    return "Bara i " + titles.length + " valda dokument: " + titles.join(", ");
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
      var text = err.kind === "invalid" ? MSG.invalid(state.maxChars) : err.kind === "busy" ? MSG.busy
        : err.kind === "auth" ? MSG.auth : MSG.down;
      var box = el("div", { class: "notice notice-error" }, [el("p", { text: text })]);
      if (err.kind === "auth") {
        var enter = el("button", { type: "button", class: "btn btn-secondary retry" }, ["Ange åtkomstnyckel"]);
        enter.addEventListener("click", function () { openAccessDialog(enter); });
        box.appendChild(enter);
      } else if (err.kind !== "invalid") {
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
      var scoped = !!scopeLabel(turn.scope);
      var notice = el("div", { class: "notice notice-nomatch" }, [
        el("p", { class: "notice-title", text: scoped ? MSG.noMatchScoped : MSG.noMatch }),
        el("p", { class: "notice-help", text: scoped ? MSG.noMatchScopedHelp : MSG.noMatchHelp })
      ]);
      if (scoped) {
        var wider = el("button", { type: "button", class: "btn btn-secondary" }, ["Fråga i alla dokument"]);
        wider.addEventListener("click", function () {
          clearScope(false);
          if (ask(turn.question)) els.input.focus();
        });
        notice.appendChild(wider);
      }
      var readWithFirst = renderReadWith(turn);
      if (readWithFirst) answer.appendChild(readWithFirst);
      answer.appendChild(notice);
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

    var readWith = renderReadWith(turn);
    if (readWith) answer.appendChild(readWith);
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
    renderPassage(passage, result, uncertain);

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

  // The discreet note on an answer whose question was read together with earlier ones, and
  // the way to ask it alone (a new turn without history).
  function renderReadWith(turn) {
    var carried = (turn.response || {}).carried;
    if (!Array.isArray(carried) || !carried.length) return null;
    var alone = el("button", { type: "button", class: "btn btn-link read-alone" }, ["Ställ frågan för sig"]);
    alone.addEventListener("click", function () {
      if (askAlone(turn.question)) els.input.focus();
    });
    return el("p", { class: "read-with" }, [
      el("span", { class: "read-with-text" }, [
        (carried.length === 1 ? "Tolkad tillsammans med din förra fråga" : "Tolkad tillsammans med dina förra frågor")
        + ": " + carried.map(function (c) { return "”" + c + "”"; }).join(" ")
      ]),
      " ", alone
    ]);
  }

  // The conversation's earlier questions, oldest first: what a new question is read with.
  function earlierQuestions() {
    return state.turns.map(function (t) { return t.question; }).slice(-HISTORY);
  }

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

  function askAlone(raw) { return ask(raw, true); }

  function ask(raw, alone) {
    var q = String(raw || "").trim();
    var problem = validate(q);
    if (problem) {
      showFieldError(problem);
      els.input.focus();
      return false;
    }
    showFieldError("");
    var turn = { id: uid(), question: q, status: "pending", response: null, error: null,
      scope: state.scope ? { ids: state.scope.ids.slice(), titles: Object.assign({}, state.scope.titles) } : null,
      history: alone ? null : earlierQuestions() };
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

    var body = { question: turn.question, k: K };
    if (turn.scope && turn.scope.ids && turn.scope.ids.length) body.filters = { document_ids: turn.scope.ids };
    if (Array.isArray(turn.history) && turn.history.length) body.history = turn.history;
    fetchJSON(API + "/search", {
      method: "POST",
      headers: readHeaders({ "Content-Type": "application/json" }),
      body: JSON.stringify(body),
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
        else if (r.status === 401) kind = "auth";
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

  // ---------- empty state: intro and example questions ----------

  function renderIntro() {
    var docs = state.documents;
    var base = " och visar de stycken som bäst besvarar din fråga, alltid med källa.";
    if (!docs) {
      if (BOUND && state.documentsError === 404 && !state.listLoading) {
        els.intro.textContent = MSG.noCollection;
        return;
      }
      els.intro.textContent = "Jag söker i dokumentsamlingen" + base +
        (state.listLoading || state.documentsError === 401 ? "" : " " + MSG.listError);
      return;
    }
    if (docs.length === 0) {
      els.intro.textContent = "Det finns inga dokument i samlingen ännu.";
      return;
    }
    els.intro.textContent = "Jag söker i " + (docs.length === 1 ? "ett dokument" : docs.length + " dokument") +
      base + (state.examples.length ? " Ställ en egen fråga eller prova ett exempel." : " Ställ en egen fråga.");
  }

  function renderExamples() {
    var list = els.examples;
    list.textContent = "";
    state.examples.forEach(function (q) {
      var b = el("button", { type: "button", class: "example", text: q });
      b.addEventListener("click", function () {
        if (ask(q)) els.input.focus();
      });
      list.appendChild(el("li", {}, [b]));
    });
    var none = state.examples.length === 0;
    list.setAttribute("aria-busy", "false");
    list.hidden = none;
    els.examplesTitle.hidden = none;
    renderIntro();
  }

  function loadExamples() {
    return fetchJSON(API + "/examples", { headers: readHeaders() }, 20000).then(function (r) {
      var qs = r.ok && r.json && Array.isArray(r.json.questions) ? r.json.questions : [];
      state.examples = qs.filter(function (q) { return typeof q === "string" && q.trim(); });
    }).catch(function () {
      state.examples = [];
    }).then(renderExamples);
  }

  function loadHealth() {
    return fetchJSON(HEALTH, { headers: BOUND ? readHeaders() : { Accept: "application/json" } }, 10000).then(function (r) {
      if (!r.ok || !r.json) return null;
      if (Number(r.json.max_request_mb) > 0) state.maxUploadMb = Number(r.json.max_request_mb);
      if (Number(r.json.max_question_chars) > 0) {
        state.maxChars = Number(r.json.max_question_chars);
        updateCounter();
      }
      return r.json;
    }).catch(function () { return null; });
  }

  function loadMeta() {
    if (state.picker) {
      loadCollections();
      return;
    }
    var health = loadHealth().then(function (h) {
      if (h && h.collections === true && !BOUND) {
        enterPicker();
        return true;
      }
      if (h && state.generation === null) state.generation = h.generation;
      return false;
    });
    if (BOUND) {
      loadDocuments();
      loadExamples();
      return;
    }
    // At / the page learns from /health whether the service holds collections (the picker)
    // or one index (the chat, as it always was).
    health.then(function (picker) {
      if (picker) return;
      loadDocuments();
      loadExamples();
    });
  }

  // ---------- the collections: the picker at / and the name of the one at /c/NAME ----------

  function enterPicker() {
    state.picker = true;
    document.querySelectorAll(".skip-link").forEach(function (a) { a.hidden = true; });
    els.form.parentNode.hidden = true;
    els.panelOpen.hidden = true;
    els.panelColumn.hidden = true;
    els.examples.hidden = true;
    els.examplesTitle.hidden = true;
    document.getElementById("empty-title").textContent = "Välj samling";
    els.intro.textContent = MSG.pickIntro;
    var list = el("ul", { id: "collection-list", class: "collection-list", "aria-labelledby": "empty-title", "aria-busy": "true" });
    var note = el("p", { id: "collection-note", class: "collection-note", role: "status" });
    var keyButton = el("button", { type: "button", id: "collection-key", class: "btn btn-secondary", text: "Jag har en åtkomstnyckel" });
    keyButton.addEventListener("click", function () { openAccessDialog(keyButton); });
    els.empty.appendChild(list);
    els.empty.appendChild(note);
    els.empty.appendChild(keyButton);
    els.collectionList = list;
    els.collectionNote = note;
    loadCollections();
  }

  function loadCollections() {
    var list = els.collectionList;
    list.setAttribute("aria-busy", "true");
    return fetchJSON("/api/collections", { headers: readHeaders() }, 15000).then(function (r) {
      return r.ok && r.json && Array.isArray(r.json.collections) ? r.json.collections : null;
    }).catch(function () { return null; }).then(function (found) {
      list.textContent = "";
      list.setAttribute("aria-busy", "false");
      if (found === null) {
        els.collectionNote.textContent = MSG.pickError;
        return found;
      }
      found.forEach(function (c) {
        var name = String(c.name);
        var docs = Number(c.documents) === 1 ? "1 dokument" : Number(c.documents) + " dokument";
        var link = el("a", { class: "collection-link", href: "/c/" + encodeURIComponent(name) }, [
          el("span", { class: "collection-name", text: name }),
          el("span", { class: "collection-meta", text: docs + (c.protected ? ", kräver nyckel" : "") })
        ]);
        list.appendChild(el("li", {}, [link]));
      });
      els.collectionNote.textContent = found.length ? "" : MSG.pickNone;
      return found;
    });
  }

  // A key given in the picker is kept for this tab and tried in every collection.
  function pickerKey(key) {
    var before = els.collectionList.children.length;
    fetchJSON("/api/collections", { headers: { Accept: "application/json", Authorization: "Bearer " + key } }, 15000)
      .then(function (r) {
        var found = r.ok && r.json && Array.isArray(r.json.collections) ? r.json.collections : null;
        if (found === null) {
          els.accessError.textContent = MSG.down;
          return;
        }
        if (found.length <= before) {
          els.accessError.textContent = MSG.keyOpensNothing;
          els.accessKey.select();
          return;
        }
        state.readKey = key;
        store(SHARED_READ_KEY, key);
        els.access.close();
        loadCollections();
      }).catch(function () {
        els.accessError.textContent = MSG.down;
      });
  }

  function showBound() {
    if (!BOUND) return;
    document.title = BOUND + " – Fråga dokumenten";
    var sub = document.querySelector(".brand-sub");
    sub.textContent = "Samling: " + BOUND;
    var actions = document.querySelector(".header-actions");
    actions.insertBefore(el("a", { class: "btn btn-quiet", id: "all-collections", href: "/", text: "Alla samlingar" }),
      actions.firstChild);
  }

  // A newer generation served (a build by the command line, another admin): show it.
  function checkGeneration() {
    loadHealth().then(function (h) {
      if (h && !state.picker && state.generation !== null && h.generation !== state.generation) collectionChanged(h.generation);
    });
  }

  function collectionChanged(generation) {
    if (generation !== undefined && generation !== null) state.generation = generation;
    docCache = {};
    loadDocuments();
    loadExamples();
  }

  // ---------- documents panel ----------

  function loadDocuments() {
    state.listLoading = true;
    els.docList.setAttribute("aria-busy", "true");
    return fetchJSON(API + "/documents", { headers: readHeaders() }, 15000).then(function (r) {
      if (r.ok && r.json && Array.isArray(r.json.documents)) {
        state.documents = r.json.documents;
        state.documentsError = 0;
      } else {
        state.documents = null;
        state.documentsError = r.status;
      }
    }).catch(function () {
      state.documents = null;
      state.documentsError = 0;
    }).then(function () {
      state.listLoading = false;
      forgetMissing();
      renderPanel();
      renderIntro();
      els.docList.setAttribute("aria-busy", "false");
      if (state.documentsError === 401) openAccessDialog(null);
    });
  }

  // Documents that are gone (deleted, or another collection) leave the selection and the scope.
  function forgetMissing() {
    if (!state.documents) return;
    var held = {};
    state.documents.forEach(function (d) { held[d.id] = true; });
    Object.keys(state.selected).forEach(function (id) { if (!held[id]) delete state.selected[id]; });
    if (state.scope) {
      var ids = state.scope.ids.filter(function (id) { return held[id]; });
      if (ids.length !== state.scope.ids.length) setScope(ids.length ? ids : null, true);
    }
  }

  function documentTitle(d) {
    return String(d.title || d.id || "Namnlöst dokument");
  }

  function documentMeta(d) {
    var parts = [];
    if (d.date) parts.push(formatDate(d.date));
    if (d.format) parts.push(FORMAT_NAMES[d.format] || String(d.format).toUpperCase());
    var pages = Number(d.pages);
    if (pages > 0) parts.push(pages === 1 ? "1 sida" : pages + " sidor");
    return parts;
  }

  function norm(s) {
    return String(s || "").toLocaleLowerCase("sv").replace(/\s+/g, " ").trim();
  }

  function selectedIds() {
    return Object.keys(state.selected).filter(function (id) { return state.selected[id]; });
  }

  function sameIds(a, b) {
    if (a.length !== b.length) return false;
    var x = a.slice().sort(), y = b.slice().sort();
    return x.every(function (v, i) { return v === y[i]; });
  }

  function renderPanel() {
    var docs = state.documents || [];
    var list = els.docList;
    var focusedId = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest(".document-item") ? document.activeElement.closest(".document-item").getAttribute("data-id") : null;
    var focusedClass = focusedId ? document.activeElement.className : "";
    list.textContent = "";
    var needle = norm(state.filter);
    var shown = docs.filter(function (d) {
      return !needle || norm(documentTitle(d)).indexOf(needle) >= 0 || norm(d.id).indexOf(needle) >= 0;
    });
    shown.forEach(function (d, i) {
      var title = documentTitle(d);
      var box = el("input", { type: "checkbox", class: "document-pick", id: "pick-" + i + "-" + uid(),
        "aria-label": "Välj " + title });
      box.checked = !!state.selected[d.id];
      box.addEventListener("change", function () {
        if (box.checked) state.selected[d.id] = true; else delete state.selected[d.id];
        renderSelection();
      });
      var open = el("button", { type: "button", class: "document-open" }, [
        el("span", { class: "document-title", text: title }), srOnly(" – öppna dokumentet")
      ]);
      open.addEventListener("click", function () {
        openDocument({ document_id: d.id, title: title, date: d.date }, open);
      });
      var meta = documentMeta(d);
      var metaNode = null;
      if (meta.length) {  // each part kept on one line ("3 sidor", "28 november 2026")
        metaNode = el("p", { class: "document-meta" });
        meta.forEach(function (part, k) {
          if (k) metaNode.appendChild(document.createTextNode(" · "));
          metaNode.appendChild(el("span", { class: "nowrap", text: part }));
        });
      }
      var main = el("div", { class: "document-main" }, [open, metaNode]);
      var item = el("li", { class: "document-item" + (inScope(d.id) ? " in-scope" : ""), "data-id": d.id }, [box, main]);
      if (state.adminKey) {
        var del = el("button", { type: "button", class: "btn btn-quiet btn-small document-delete" }, [
          "Ta bort", srOnly(" " + title)
        ]);
        del.addEventListener("click", function () { confirmDelete(d, del); });
        item.appendChild(del);
      }
      list.appendChild(item);
    });
    list.hidden = shown.length === 0;
    els.count.textContent = state.documents ? "(" + docs.length + ")" : "";

    var note = "";
    if (!state.documents) note = state.listLoading ? "Hämtar dokumenten …" : state.documentsError === 401 ? MSG.auth
      : state.documentsError === 404 && BOUND ? MSG.noCollection : MSG.listError;
    else if (docs.length === 0) note = "Det finns inga dokument i samlingen ännu.";
    else if (shown.length === 0) note = "Inga dokument har en titel som innehåller ”" + state.filter.trim() + "”.";
    els.listNote.textContent = note;
    els.listNote.hidden = !note;
    if (!state.documents && state.documentsError === 401) {
      var enter = el("button", { type: "button", class: "btn btn-secondary btn-small access-open" }, ["Ange åtkomstnyckel"]);
      enter.addEventListener("click", function () { openAccessDialog(enter); });
      els.listNote.appendChild(document.createTextNode(" "));
      els.listNote.appendChild(enter);
    }
    els.filterStatus.textContent = needle && shown.length ? "Visar " + shown.length + " av " + docs.length + " dokument." : "";

    if (focusedId) {  // a refresh keeps the keyboard where it was
      var again = list.querySelector('.document-item[data-id="' + cssEscape(focusedId) + '"] .' + focusedClass.split(" ").pop());
      if (again) again.focus();
    }
    renderSelection();
  }

  function cssEscape(s) {
    return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, "\\$&");
  }

  function inScope(id) {
    return !!(state.scope && state.scope.ids.indexOf(id) >= 0);
  }

  // The selection line, the two buttons, the bar above the question box and the header button.
  function renderSelection() {
    var ids = selectedIds();
    var scopeIds = state.scope ? state.scope.ids : [];
    var text;
    if (state.scope && sameIds(ids, scopeIds)) {
      text = scopeIds.length === 1 ? "Frågorna ställs bara i det valda dokumentet."
        : "Frågorna ställs bara i de " + scopeIds.length + " valda dokumenten.";
    } else if (ids.length) {
      text = (ids.length === 1 ? "1 dokument markerat." : ids.length + " dokument markerade.") +
        (state.scope ? " Tryck på knappen för att fråga i dem i stället." : "");
    } else {
      text = "Markera dokument för att bara fråga i dem.";
    }
    els.selectionStatus.textContent = text;
    var applied = state.scope !== null && sameIds(ids, scopeIds);
    els.scopeApply.disabled = ids.length === 0;
    els.scopeApply.hidden = applied;  // nothing to apply: the limit is the one shown
    els.scopeClear.hidden = !state.scope && ids.length === 0;
    els.scopeClear.textContent = state.scope ? "Fråga i alla dokument" : "Avmarkera alla";

    var label = scopeLabel(state.scope);
    els.scopeBar.hidden = !label;
    els.scopeText.textContent = label ? "Frågar " + label.charAt(0).toLowerCase() + label.slice(1) : "";
    document.body.classList.toggle("is-scoped", !!label);
    var n = state.documents ? state.documents.length : null;
    els.panelOpenCount.textContent = state.scope ? " (" + scopeIds.length + (scopeIds.length === 1 ? " valt)" : " valda)")
      : n !== null ? " (" + n + ")" : "";
  }

  function setScope(ids, quiet) {
    if (ids && ids.length) {
      var titles = {};
      (state.documents || []).forEach(function (d) { if (ids.indexOf(d.id) >= 0) titles[d.id] = documentTitle(d); });
      if (state.scope) ids.forEach(function (id) { if (!titles[id]) titles[id] = state.scope.titles[id] || id; });
      state.scope = { ids: ids.slice(), titles: titles };
      state.selected = {};
      ids.forEach(function (id) { state.selected[id] = true; });
    } else {
      state.scope = null;
    }
    store(SCOPE_KEY, state.scope ? JSON.stringify(state.scope) : "");
    if (!quiet) els.scopeStatus.textContent = state.scope ? "Frågar " + scopeLabel(state.scope).replace(/^Bara/, "bara") + "."
      : "Frågar i alla dokument.";
    els.docList.querySelectorAll(".document-item").forEach(function (item) {
      item.classList.toggle("in-scope", inScope(item.getAttribute("data-id")));
    });
    renderSelection();
  }

  function loadScope() {
    try {
      var data = JSON.parse(stored(SCOPE_KEY) || "null");
      if (data && Array.isArray(data.ids) && data.ids.length && data.ids.every(function (x) { return typeof x === "string"; })) {
        state.scope = { ids: data.ids, titles: data.titles && typeof data.titles === "object" ? data.titles : {} };
        data.ids.forEach(function (id) { state.selected[id] = true; });
      }
    } catch (e) { state.scope = null; }
  }

  function applyScope() {
    var ids = selectedIds();
    if (!ids.length) return;
    setScope(ids, false);
    if (!isWide() && els.panelDialog.open) {
      panelReturn = els.input;  // the drawer closes onto the question box, not its opener
      els.panelDialog.close();
    } else {
      els.input.focus();
    }
  }

  function clearScope(focusInput) {
    state.selected = {};
    els.docList.querySelectorAll(".document-pick").forEach(function (b) { b.checked = false; });
    setScope(null, false);
    if (focusInput) els.input.focus();
  }

  // ---------- panel placement: a column on wide screens, a dialog (drawer) on narrow ones ----------

  var wideQuery = null;
  var panelReturn = null;  // where focus goes when the drawer closes (default: its opener)

  function isWide() {
    return !!(wideQuery && wideQuery.matches);
  }

  function placePanel() {
    var wide = isWide();
    if (wide) {
      if (els.panelDialog.open) els.panelDialog.close();
      if (els.panel.parentNode !== els.panelColumn) els.panelColumn.appendChild(els.panel);
    } else if (els.panel.parentNode !== els.panelDialog) {
      els.panelDialog.appendChild(els.panel);
    }
    document.body.classList.toggle("panel-docked", wide);
  }

  function openPanel() {
    if (isWide()) {
      els.filter.focus();
      return;
    }
    if (!els.panelDialog.open) {
      if (typeof els.panelDialog.showModal === "function") els.panelDialog.showModal();
      else els.panelDialog.setAttribute("open", "");
    }
    document.body.classList.add("dialog-open");
    els.filter.focus();
  }

  // ---------- the admin key, uploads and deletion ----------

  function adminHeaders(extra) {
    return Object.assign({ Accept: "application/json", Authorization: "Bearer " + state.adminKey }, extra || {});
  }

  function adminMessage(text, kind) {
    els.adminMessage.textContent = text || "";
    els.adminMessage.className = "admin-message" + (kind ? " is-" + kind : "");
  }

  function renderAdmin() {
    var on = !!state.adminKey;
    els.adminForm.hidden = on;
    els.adminTools.hidden = !on;
    renderPanel();
  }

  // The key is checked with a write the server refuses before it changes anything (an empty
  // JSON document): 422 means the key was accepted, 401 wrong, 403 writing is off.
  function onAdminSubmit(ev) {
    ev.preventDefault();
    var key = els.adminKey.value.trim();
    if (!key) {
      adminMessage(MSG.adminEmpty, "error");
      els.adminKey.focus();
      return;
    }
    adminMessage("Kontrollerar nyckeln…", "");
    fetchJSON(API + "/admin", {
      headers: { Accept: "application/json", Authorization: "Bearer " + key }
    }, 15000).then(function (r) {
      if (r.ok) {
        state.adminKey = key;
        store(ADMIN_KEY, key);
        els.adminKey.value = "";
        renderAdmin();
        adminMessage(MSG.adminOn, "ok");
        els.pickFiles.focus();
      } else {
        adminRefused(r.status, r.json);
        els.adminKey.focus();
        els.adminKey.select();
      }
    }).catch(function () {
      adminMessage(MSG.adminDown, "error");
    });
  }

  // A write was refused for who we are: say so, and ask for the key again when it was wrong.
  function adminRefused(status, json) {
    if (status === 401) {
      forgetAdmin(false);
      adminMessage(MSG.adminWrong, "error");
      return true;
    }
    if (status === 403) {
      forgetAdmin(false);
      adminMessage(MSG.adminOff, "error");
      return true;
    }
    adminMessage(writeError(status, json), "error");
    return false;
  }

  function writeError(status, json) {
    var detail = json && typeof json.detail === "string" ? json.detail : "";
    if (status === 413) {
      var m = /larger than ([\d.]+) MiB/.exec(detail);
      return "Uppladdningen är för stor" + (m ? " (högst " + m[1].replace(".", ",") + " MB åt gången)" : "") +
        ". Ladda upp färre eller mindre filer.";
    }
    if (status === 409) return "Det sista dokumentet kan inte tas bort: samlingen får inte bli tom. Lägg till ett annat dokument först.";
    if (status === 404) return "Dokumentet finns inte längre i samlingen.";
    if (status === 503) return "Samlingen uppdateras just nu av någon annan. Försök igen om en stund.";
    if (status === 0) return MSG.adminDown;
    return "Ändringen kunde inte göras (fel " + status + "). Försök igen.";
  }

  function forgetAdmin(announce) {
    state.adminKey = "";
    store(ADMIN_KEY, "");
    renderAdmin();
    if (announce) {
      adminMessage("Administratörsnyckeln är glömd.", "");
      els.adminKey.focus();
    }
  }

  function skipReason(reason) {
    var r = String(reason || "");
    var kind = Object.keys(SKIP_REASONS).filter(function (k) { return r === k || r.indexOf(k + ":") === 0; })[0];
    if (!kind) return "filen kunde inte läsas";
    var words = SKIP_REASONS[kind];
    if (kind === "unsupported type") {
      var suffix = r.slice(kind.length + 1).trim();
      if (/^\.[\w-]{1,12}$/.test(suffix)) words += " (" + suffix + ")";
    }
    return words;
  }

  function statusLine(change) {
    var status = String(change.status || "");
    var words = STATUS_WORDS[status] || status;
    if (status === "skipped") words += ": " + skipReason(change.reason);
    return words;
  }

  function summarize(changes) {
    var counts = {};
    changes.forEach(function (c) { counts[c.status] = (counts[c.status] || 0) + 1; });
    var parts = [];
    if (counts.added) parts.push(counts.added + " tillagt");
    if (counts.replaced) parts.push(counts.replaced + " ersatt");
    if (counts.unchanged) parts.push(counts.unchanged + " oförändrat");
    if (counts.skipped) parts.push(counts.skipped + " hoppades över");
    return parts.join(", ");
  }

  function upload(fileList) {
    var files = Array.prototype.slice.call(fileList || []);
    if (!files.length || !state.adminKey) return;
    var names = files.map(function (f) { return f.name; });
    var total = files.reduce(function (n, f) { return n + f.size; }, 0);
    var label = names.length === 1 ? names[0] : names.length + " filer: " + names.join(", ");
    var bar = el("progress", { class: "upload-bar", max: "100", value: "0", "aria-label": "Uppladdning av " + label });
    var stateText = el("span", { class: "upload-state", text: "Laddar upp … 0 %" });
    var results = el("ul", { class: "upload-results", hidden: true });
    var row = el("li", { class: "upload is-running" }, [
      el("p", { class: "upload-name", text: label }),
      el("div", { class: "upload-progress" }, [bar, stateText]),
      results
    ]);
    els.uploads.insertBefore(row, els.uploads.firstChild);
    if (state.maxUploadMb && total > state.maxUploadMb * 1048576) {
      row.classList.remove("is-running");
      row.classList.add("is-failed");
      bar.remove();
      stateText.textContent = "Skickades inte: " + writeError(413, { detail: "larger than " + state.maxUploadMb + " MiB" });
      adminMessage(stateText.textContent, "error");
      return;
    }
    adminMessage("Laddar upp " + label + " …", "");

    var form = new FormData();
    files.forEach(function (f) { form.append("files", f, f.name); });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", API + "/documents");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Authorization", "Bearer " + state.adminKey);
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var pct = Math.min(100, Math.round(e.loaded / e.total * 100));
      bar.value = pct;
      stateText.textContent = "Laddar upp … " + pct + " %";
    });
    xhr.upload.addEventListener("load", function () {
      bar.removeAttribute("value");  // indeterminate while the server reads and indexes
      stateText.textContent = "Läser och indexerar …";
    });
    function finish(status, json) {
      row.classList.remove("is-running");
      bar.remove();
      if (status === 200 && json && Array.isArray(json.documents)) {
        row.classList.add("is-done");
        stateText.textContent = "Klart: " + (summarize(json.documents) || "inget ändrat") + ".";
        json.documents.forEach(function (c) {
          results.appendChild(el("li", { class: "upload-result status-" + String(c.status) }, [
            el("span", { class: "upload-file", text: String(c.file || c.id || "") }),
            el("span", { class: "upload-status", text: statusLine(c) })
          ]));
        });
        results.hidden = false;
        adminMessage("Uppladdningen är klar: " + (summarize(json.documents) || "inget ändrat") + ".", "ok");
        collectionChanged(json.generation);
        return;
      }
      row.classList.add("is-failed");
      var text = status === 401 ? MSG.adminWrong : status === 403 ? MSG.adminOff
        : status === 0 ? "Uppladdningen avbröts: servern svarar inte, eller så är filerna för stora." : writeError(status, json);
      stateText.textContent = "Misslyckades: " + text;
      if (status === 0) adminMessage(text, "error"); else adminRefused(status, json);
    }
    xhr.addEventListener("load", function () {
      var json = null;
      try { json = JSON.parse(xhr.responseText); } catch (e) { json = null; }
      finish(xhr.status, json);
    });
    xhr.addEventListener("error", function () { finish(0, null); });
    xhr.send(form);
  }

  var pendingDelete = null;  // {doc, opener}

  function confirmDelete(doc, opener) {
    pendingDelete = { doc: doc, opener: opener };
    els.confirmText.textContent = "”" + documentTitle(doc) + "” tas bort ur samlingen och går inte längre att fråga i. " +
      "Det går inte att ångra.";
    els.confirm.returnValue = "";
    els.confirm.showModal();
    els.confirmCancel.focus();
  }

  function onConfirmClose() {
    var job = pendingDelete;
    pendingDelete = null;
    if (!job) return;
    if (els.confirm.returnValue !== "delete") {
      if (document.body.contains(job.opener)) job.opener.focus();
      return;
    }
    var title = documentTitle(job.doc);
    job.opener.disabled = true;
    job.opener.firstChild.textContent = "Tar bort …";
    adminMessage("Tar bort ”" + title + "” …", "");
    fetchJSON(API + "/documents/" + encodeURIComponent(job.doc.id), { method: "DELETE", headers: adminHeaders() }, 600000)
      .then(function (r) {
        if (r.ok) {
          adminMessage("”" + title + "” är borttaget.", "ok");
          els.filter.focus();
          collectionChanged(r.json && r.json.generation);
          return;
        }
        job.opener.disabled = false;
        job.opener.firstChild.textContent = "Ta bort";
        if (!adminRefused(r.status, r.json)) job.opener.focus();
        if (r.status === 404) collectionChanged();
      }).catch(function () {
        job.opener.disabled = false;
        job.opener.firstChild.textContent = "Ta bort";
        adminMessage(MSG.adminDown, "error");
      });
  }

  function wireDropZone() {
    var zone = els.dropZone;
    var depth = 0;
    zone.addEventListener("dragenter", function (e) { e.preventDefault(); depth++; zone.classList.add("is-over"); });
    zone.addEventListener("dragover", function (e) { e.preventDefault(); if (e.dataTransfer) e.dataTransfer.dropEffect = "copy"; });
    zone.addEventListener("dragleave", function () { depth = Math.max(0, depth - 1); if (!depth) zone.classList.remove("is-over"); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      depth = 0;
      zone.classList.remove("is-over");
      if (e.dataTransfer && e.dataTransfer.files) upload(e.dataTransfer.files);
    });
    // A file dropped beside the zone must not make the browser leave the page to show it.
    ["dragover", "drop"].forEach(function (type) {
      window.addEventListener(type, function (e) {
        if (!zone.contains(e.target) && e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types || [], "Files") >= 0) {
          e.preventDefault();
        }
      });
    });
    els.pickFiles.addEventListener("click", function () { els.fileInput.click(); });
    els.fileInput.addEventListener("change", function () {
      upload(els.fileInput.files);
      els.fileInput.value = "";
    });
  }

  // ---------- the access key (a service whose reads need a token) ----------

  var accessOpener = null;

  function openAccessDialog(opener) {
    if (els.access.open) return;
    accessOpener = opener;
    els.accessError.textContent = "";
    els.accessKey.value = "";
    els.access.showModal();
    els.accessKey.focus();
  }

  function onAccessSubmit(ev) {
    ev.preventDefault();
    var key = els.accessKey.value.trim();
    if (!key) {
      els.accessError.textContent = "Skriv åtkomstnyckeln först.";
      return;
    }
    if (state.picker) {
      pickerKey(key);
      return;
    }
    fetchJSON(API + "/documents", { headers: { Accept: "application/json", Authorization: "Bearer " + key } }, 15000)
      .then(function (r) {
        if (r.status === 401) {
          els.accessError.textContent = MSG.accessWrong;
          els.accessKey.select();
          return;
        }
        state.readKey = key;
        store(READ_KEY, key);
        els.access.close();
        loadMeta();
        state.turns.forEach(function (t) {
          if (t.status === "error" && t.error && t.error.kind === "auth") runTurn(t, false);
        });
      }).catch(function () {
        els.accessError.textContent = MSG.down;
      });
  }

  function onAccessClose() {
    var back = accessOpener;
    accessOpener = null;
    if (back && document.body.contains(back)) back.focus(); else els.input.focus();
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
      if (!hasPassage(result) && Array.isArray(doc.pages) && doc.pages.length) {
        meta.push(doc.pages.length === 1 ? "1 sida" : doc.pages.length + " sidor");
      }
      els.docMeta.textContent = meta.join(" · ");
      if (doc.original && doc.original.url) {
        var kind = FORMAT_NAMES[doc.format] || String(doc.format || "fil");
        els.docMeta.appendChild(document.createTextNode(meta.length ? " · " : ""));
        var link = el("a", { class: "doc-original", href: String(doc.original.url),
          download: String(doc.original.filename || "").split("/").pop() || null },
          ["Ladda ner originalet (" + kind + ", " + sizeLabel(doc.original.size) + ")"]);
        link.addEventListener("click", downloadWithKey);
        els.docMeta.appendChild(link);
      }
      var target = Array.isArray(doc.blocks) && doc.blocks.length
        ? renderDocumentBlocks(doc, result) : renderDocumentText(doc.text, result);
      els.docBody.setAttribute("aria-busy", "false");
      if (target && hasPassage(result)) {
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
    if (!hasPassage(result)) {
      body.appendChild(el("div", { class: "doc-text", text: text }));
      body.scrollTop = 0;
      return null;
    }
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
    if (hasPassage(result)) body.appendChild(legend(hs.length > 0));

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

  // A document opened from a search result has a passage to show; one opened from the list has not.
  function hasPassage(result) {
    return result.start !== undefined && result.start !== null && Number(result.end) > Number(result.start);
  }

  // With an access key the original cannot be a plain link (a link sends no key): fetch it, then save it.
  function downloadWithKey(ev) {
    var key = state.readKey || state.adminKey;
    if (!key) return;
    ev.preventDefault();
    var link = ev.currentTarget;
    fetch(link.getAttribute("href"), { headers: { Authorization: "Bearer " + key } }).then(function (res) {
      if (!res.ok) throw new Error("original " + res.status);
      return res.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var a = el("a", { href: url, download: link.getAttribute("download") || "dokument" });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
    }).catch(function () {
      els.docMeta.appendChild(el("span", { class: "doc-original-error", text: " Originalet kunde inte hämtas." }));
    });
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

  // The page behind a modal dialog does not scroll; several can be open (a document over the drawer).
  function syncDialogClass() {
    var open = [els.dialog, els.panelDialog].some(function (d) { return d && d.open; });
    document.body.classList.toggle("dialog-open", open);
  }

  function onDialogClose() {
    syncDialogClass();
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
    els.examples = document.getElementById("examples");
    els.examplesTitle = document.getElementById("examples-title");
    els.panel = document.getElementById("doc-panel");
    els.panelColumn = document.getElementById("panel-column");
    els.panelDialog = document.getElementById("panel-dialog");
    els.panelOpen = document.getElementById("panel-open");
    els.panelOpenCount = document.getElementById("panel-open-count");
    els.panelClose = document.getElementById("panel-close");
    els.count = document.getElementById("panel-count");
    els.filter = document.getElementById("doc-filter");
    els.filterStatus = document.getElementById("doc-filter-status");
    els.listNote = document.getElementById("document-list-note");
    els.selectionStatus = document.getElementById("selection-status");
    els.scopeApply = document.getElementById("scope-apply");
    els.scopeClear = document.getElementById("scope-clear");
    els.scopeBar = document.getElementById("scope-bar");
    els.scopeText = document.getElementById("scope-text");
    els.scopeClearBar = document.getElementById("scope-clear-bar");
    els.scopeStatus = document.getElementById("scope-status");
    els.adminForm = document.getElementById("admin-form");
    els.adminKey = document.getElementById("admin-key");
    els.adminMessage = document.getElementById("admin-message");
    els.adminTools = document.getElementById("admin-tools");
    els.dropZone = document.getElementById("drop-zone");
    els.pickFiles = document.getElementById("pick-files");
    els.fileInput = document.getElementById("file-input");
    els.uploads = document.getElementById("upload-list");
    els.adminForget = document.getElementById("admin-forget");
    els.confirm = document.getElementById("confirm-dialog");
    els.confirmText = document.getElementById("confirm-text");
    els.confirmCancel = document.getElementById("confirm-cancel");
    els.access = document.getElementById("access-dialog");
    els.accessKey = document.getElementById("access-key");
    els.accessError = document.getElementById("access-error");

    els.form.addEventListener("submit", onSubmit);
    els.input.addEventListener("keydown", onKeydown);
    els.input.addEventListener("input", function () { updateCounter(); autoGrow(); });
    els.newConv.addEventListener("click", clearConversation);

    state.readKey = stored(READ_KEY) || (BOUND ? stored(SHARED_READ_KEY) : "");
    state.adminKey = stored(ADMIN_KEY);
    showBound();
    loadScope();
    wideQuery = window.matchMedia ? window.matchMedia(WIDE) : null;
    placePanel();
    if (wideQuery) {
      if (wideQuery.addEventListener) wideQuery.addEventListener("change", placePanel);
      else if (wideQuery.addListener) wideQuery.addListener(placePanel);
    }
    els.panelOpen.addEventListener("click", openPanel);
    els.panelClose.addEventListener("click", function () { els.panelDialog.close(); });
    els.panelDialog.addEventListener("close", function () {
      syncDialogClass();
      var back = panelReturn || els.panelOpen;
      panelReturn = null;
      if (!isWide()) back.focus();
    });
    els.panelDialog.addEventListener("click", function (ev) {
      if (ev.target === els.panelDialog) els.panelDialog.close(); // click on the backdrop
    });
    document.getElementById("skip-panel").addEventListener("click", function (ev) {
      ev.preventDefault();
      openPanel();
    });
    els.filter.addEventListener("input", function () {
      state.filter = els.filter.value;
      renderPanel();
    });
    els.scopeApply.addEventListener("click", applyScope);
    els.scopeClear.addEventListener("click", function () { clearScope(false); els.filter.focus(); });
    els.scopeClearBar.addEventListener("click", function () { clearScope(true); });
    els.adminForm.addEventListener("submit", onAdminSubmit);
    els.adminForget.addEventListener("click", function () { forgetAdmin(true); });
    wireDropZone();
    els.confirm.addEventListener("close", onConfirmClose);
    els.access.addEventListener("submit", onAccessSubmit);
    els.access.addEventListener("close", onAccessClose);
    document.getElementById("access-cancel").addEventListener("click", function () { els.access.close(); });
    window.addEventListener("focus", checkGeneration);
    renderAdmin();

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
