/*
 * The exam player (assessments/delivery/player.html and summary.html).
 *
 * Reads its configuration from <script type="application/json" id="viva-player-config">
 * (no inline script: strict CSP). What it does:
 *
 *  - Clock. The countdown never trusts the browser's clock: every server reply carries the
 *    server's time, and  offset = serverNow - performance.now()  (at the request's midpoint)
 *    gives the server's time as performance.now() + offset. Date is not used for the clock.
 *  - Autosave. A change marks its question dirty; 600 ms later (at once on blur or
 *    navigation) the answer gets the next sequence number and joins a queue kept in
 *    localStorage under the attempt, so it survives going offline, a reload and a crash.
 *    The queue is posted to /exam/autosave/; an entry leaves it when the server acknowledges
 *    its sequence number. The counter starts above the highest sequence number the server
 *    holds and any still in the queue. A "stale" reply (another tab saved a newer answer)
 *    puts the server's answer in the form and says so. "closed"/"late" stop saving.
 *  - Integrity signals (tab hidden, window blur, paste, leaving full screen, offline) are
 *    batched to the attempt's events endpoint; ``window.VivaPlayer.report`` lets webcam.js
 *    add the camera's own.
 */
(function () {
  "use strict";

  var configElement = document.getElementById("viva-player-config");
  var root = document.querySelector("[data-viva-player]");
  if (!configElement || !root) return;
  var config = JSON.parse(configElement.textContent);
  var isPlayer = config.mode === "player";

  var DEBOUNCE_MS = 600;
  var STATE_POLL_MS = 30000;
  var EVENTS_DELAY_MS = 2000;
  var MAX_BACKOFF_MS = 30000;
  var STORE_KEY = "viva-attempt:" + config.attempt;

  function $(selector, scope) {
    return (scope || root).querySelector(selector);
  }
  function $all(selector, scope) {
    return Array.prototype.slice.call((scope || root).querySelectorAll(selector));
  }

  // -- the clock: server time = performance.now() + offset ------------------------------------

  function daysFromCivil(y, m, d) {
    y -= m <= 2 ? 1 : 0;
    var era = Math.floor(y / 400);
    var yoe = y - era * 400;
    var doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
    var doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
    return era * 146097 + doe - 719468;
  }

  /** Milliseconds since the epoch of an ISO 8601 time from the server (no use of Date). */
  function parseIso(text) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/.exec(
      text || ""
    );
    if (!m) return null;
    var ms = daysFromCivil(+m[1], +m[2], +m[3]) * 86400000;
    ms += ((+m[4] * 60 + +m[5]) * 60 + +m[6]) * 1000;
    if (m[7]) ms += Math.round(+("0." + m[7]) * 1000);
    if (m[8] && m[8] !== "Z") {
      var sign = m[8][0] === "-" ? -1 : 1;
      var digits = m[8].slice(1).replace(":", "");
      ms -= sign * (+digits.slice(0, 2) * 60 + +digits.slice(2, 4)) * 60000;
    }
    return ms;
  }

  function mono() {
    return performance.now();
  }

  var offset = parseIso(config.now) - mono();
  var deadline = config.deadline ? parseIso(config.deadline) : null;
  var graceMs = (config.grace_seconds || 0) * 1000;

  function serverNow() {
    return mono() + offset;
  }
  function syncClock(serverIso, sentAt, receivedAt) {
    var server = parseIso(serverIso);
    if (server !== null) offset = server - (sentAt + receivedAt) / 2;
  }
  function setDeadline(iso) {
    if (iso === undefined) return;
    deadline = iso ? parseIso(iso) : null;
  }

  function formatLeft(ms) {
    var total = Math.max(0, Math.ceil(ms / 1000));
    var h = Math.floor(total / 3600);
    var m = Math.floor((total % 3600) / 60);
    var s = total % 60;
    var pad = function (n) {
      return (n < 10 ? "0" : "") + n;
    };
    return (h ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
  }

  // -- status and alerts ------------------------------------------------------------------------

  var saveState = $("[data-viva-save-state]");
  var alertBox = $("[data-viva-alert]");
  var closed = false;

  function setSaveState(text, kind) {
    if (!saveState) return;
    if (saveState.textContent !== text) saveState.textContent = text;
    saveState.setAttribute("data-state", kind || "saved");
  }

  function showAlert(text, link) {
    if (!alertBox) return;
    alertBox.textContent = text;
    if (link) {
      alertBox.appendChild(document.createTextNode(" "));
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      alertBox.appendChild(a);
    }
    alertBox.hidden = false;
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  // -- the queue in localStorage -----------------------------------------------------------------

  var memoryStore = { pending: {} };

  function readStore() {
    try {
      var raw = window.localStorage.getItem(STORE_KEY);
      var parsed = raw ? JSON.parse(raw) : null;
      if (parsed && typeof parsed.pending === "object") return parsed;
      return { pending: {} };
    } catch (e) {
      return memoryStore;
    }
  }

  function writeStore(store) {
    memoryStore = store;
    try {
      if (Object.keys(store.pending).length) {
        window.localStorage.setItem(STORE_KEY, JSON.stringify(store));
      } else {
        window.localStorage.removeItem(STORE_KEY);
      }
    } catch (e) {
      /* private mode or full: the in-memory copy still holds the queue for this page */
    }
  }

  /** Apply ``change(store)`` to the latest stored queue (another tab may have written). */
  function updateStore(change) {
    var store = readStore();
    change(store);
    writeStore(store);
    return store;
  }

  function pendingCount() {
    return Object.keys(readStore().pending).length;
  }

  /** Answers not yet on the server: queued, or changed and about to be queued. */
  function unsavedCount() {
    var positions = readStore().pending;
    var count = Object.keys(positions).length;
    Object.keys(dirty).forEach(function (position) {
      if (!positions[position]) count += 1;
    });
    return count;
  }

  // What the server is known to hold: position -> {seq, flagged, answered}.
  var acked = {};
  Object.keys(config.responses || {}).forEach(function (position) {
    acked[position] = config.responses[position];
  });

  var counter = config.max_seq || 0;
  (function startCounter() {
    var store = readStore();
    Object.keys(store.pending).forEach(function (position) {
      counter = Math.max(counter, store.pending[position].seq || 0);
    });
  })();

  // -- questions on the page -----------------------------------------------------------------

  function fieldsetAt(position) {
    return root.querySelector('fieldset.viva-question[data-position="' + position + '"]');
  }
  function flagBoxAt(position) {
    return root.querySelector('[data-flag-position="' + position + '"]');
  }
  function noteAt(position) {
    return root.querySelector('[data-note-position="' + position + '"]');
  }

  function updatePalette(position, answered, flagged) {
    var link = root.querySelector('.palette [data-goto="' + position + '"]');
    if (!link) return;
    link.classList.toggle("is-answered", !!answered);
    link.classList.toggle("is-flagged", !!flagged);
    var label = link.querySelector("[data-palette-state]");
    if (label) {
      label.textContent = (answered ? ", answered" : ", not answered") + (flagged ? ", flagged" : "");
    }
  }

  function refreshPalette(position) {
    var fieldset = fieldsetAt(position);
    if (!fieldset || !window.VivaResponses) return;
    var flag = flagBoxAt(position);
    updatePalette(position, window.VivaResponses.collect(fieldset) !== null, flag && flag.checked);
  }

  function adopt(position, value, flagged) {
    var fieldset = fieldsetAt(position);
    if (fieldset && window.VivaResponses) window.VivaResponses.restore(fieldset, value);
    var flag = flagBoxAt(position);
    if (flag) flag.checked = !!flagged;
    lastCommitted[position] = JSON.stringify({ value: value, flagged: !!flagged });
    refreshPalette(position);
  }

  function rememberShownAnswers() {
    if (!window.VivaResponses) return;
    $all("fieldset.viva-question").forEach(function (fieldset) {
      var position = fieldset.getAttribute("data-position");
      var flag = flagBoxAt(position);
      lastCommitted[position] = JSON.stringify({
        value: window.VivaResponses.collect(fieldset),
        flagged: !!(flag && flag.checked),
      });
    });
  }

  // -- autosave ------------------------------------------------------------------------------------

  var dirty = {};
  // What this page last queued (or was shown) per question, as JSON: an unchanged answer
  // gets no new sequence number.
  var lastCommitted = {};
  var debounceTimer = null;
  var inFlight = null;
  var again = false;
  var backoff = 0;
  var retryTimer = null;
  var lastError = "";
  var offline = navigator.onLine === false;

  function markDirty(position) {
    if (closed) return;
    dirty[position] = true;
    refreshPalette(position);
    showQueueState();
    clearTimeout(debounceTimer);
    debounceTimer = setTimeout(commitAndFlush, DEBOUNCE_MS);
  }

  /** Give every dirty question's current answer the next sequence number and queue it. */
  function commit() {
    clearTimeout(debounceTimer);
    var positions = Object.keys(dirty);
    if (!positions.length || !window.VivaResponses) return;
    dirty = {};
    var outranked = [];
    updateStore(function (store) {
      positions.forEach(function (position) {
        var fieldset = fieldsetAt(position);
        if (!fieldset) return;
        var flag = flagBoxAt(position);
        var answer = { value: window.VivaResponses.collect(fieldset), flagged: !!(flag && flag.checked) };
        var text = JSON.stringify(answer);
        if (lastCommitted[position] === text) return; // e.g. the "change" after typing
        lastCommitted[position] = text;
        counter += 1;
        var held = store.pending[position];
        if (!held || held.seq < counter) {
          store.pending[position] = { value: answer.value, flagged: answer.flagged, seq: counter };
        } else {
          // Another tab queued a newer answer for this question: the server will keep that
          // one, so this page shows it too (as it would after a "stale" reply).
          outranked.push([position, held]);
        }
      });
    });
    outranked.forEach(function (pair) {
      adopt(pair[0], pair[1].value, pair[1].flagged);
      noteStale(pair[0]);
    });
  }

  function noteStale(position) {
    var text = "This answer was changed in another tab; the newer answer is shown.";
    var note = noteAt(position);
    if (note) note.textContent = text;
    return "Question " + position + ": " + text;
  }

  function commitAndFlush() {
    commit();
    return flush();
  }

  function csrfToken() {
    var match = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function postJson(url, body, extra) {
    var options = {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    };
    if (extra && extra.keepalive) options.keepalive = true;
    return fetch(url, options);
  }

  function showQueueState() {
    if (closed) return;
    var count = unsavedCount();
    if (offline && count) {
      setSaveState("Offline — " + plural(count, "answer") + " waiting", "offline");
    } else if (offline) {
      setSaveState("Offline — all answers saved before going offline", "offline");
    } else if (lastError) {
      setSaveState("Not saved: " + lastError, "error");
    } else if (count) {
      setSaveState("Saving…", "saving");
    } else {
      setSaveState("All answers saved", "saved");
    }
  }

  function scheduleRetry() {
    clearTimeout(retryTimer);
    backoff = backoff ? Math.min(MAX_BACKOFF_MS, backoff * 2) : 1000;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      flush();
    }, backoff);
  }

  /** Send the queue; resolves when this round is over (saved, refused or failed). */
  function flush() {
    if (closed) return Promise.resolve();
    if (inFlight) {
      again = true;
      return inFlight;
    }
    var store = readStore();
    var positions = Object.keys(store.pending)
      .sort(function (a, b) {
        return a - b;
      })
      .slice(0, 200);
    if (!positions.length) {
      showQueueState();
      return Promise.resolve();
    }
    var answers = positions.map(function (position) {
      var entry = store.pending[position];
      return { position: +position, value: entry.value, flagged: !!entry.flagged, seq: entry.seq };
    });
    if (!offline) setSaveState("Saving…", "saving");
    var sentAt = mono();
    inFlight = postJson(config.urls.autosave, { token: config.token, answers: answers })
      .then(
        function (response) {
          var receivedAt = mono();
          offline = false;
          return response
            .json()
            .catch(function () {
              return { error: "server", message: "the server did not answer (" + response.status + ")." };
            })
            .then(function (body) {
              handleReply(response.status, body, sentAt, receivedAt);
            });
        },
        function () {
          offline = true;
          scheduleRetry();
        }
      )
      .then(function () {
        inFlight = null;
        showQueueState();
        if (again && !closed) {
          again = false;
          return flush();
        }
        again = false;
      });
    return inFlight;
  }

  function handleReply(status, body, sentAt, receivedAt) {
    if (body && body.now) syncClock(body.now, sentAt, receivedAt);
    if (status === 200) {
      lastError = "";
      backoff = 0;
      setDeadline(body.deadline);
      if (typeof body.grace_seconds === "number") graceMs = body.grace_seconds * 1000;
      var done = {};
      body.saved.forEach(function (saved) {
        done[saved.position] = saved.seq;
      });
      var stale = {};
      body.stale.forEach(function (entry) {
        stale[entry.position] = entry;
      });
      var refused = {};
      body.refused.forEach(function (entry) {
        refused[entry.position] = entry;
      });
      var notes = [];
      updateStore(function (store) {
        Object.keys(store.pending).forEach(function (position) {
          var entry = store.pending[position];
          if (done[position] !== undefined && entry.seq <= done[position]) {
            acked[position] = { seq: done[position], flagged: entry.flagged, answered: entry.value !== null };
            delete store.pending[position];
          } else if (stale[position] && entry.seq <= stale[position].seq) {
            delete store.pending[position];
          } else if (refused[position]) {
            delete store.pending[position];
          }
        });
      });
      Object.keys(stale).forEach(function (position) {
        var entry = stale[position];
        counter = Math.max(counter, entry.seq);
        acked[position] = { seq: entry.seq, flagged: entry.flagged, answered: entry.value !== null };
        if (readStore().pending[position]) return; // a newer change of this page is queued
        adopt(position, entry.value, entry.flagged);
        notes.push(noteStale(position));
      });
      Object.keys(refused).forEach(function (position) {
        var note = noteAt(position);
        var text = "Not saved: this question can no longer be changed.";
        if (note) note.textContent = text;
        notes.push("Question " + position + ": " + text);
      });
      if (notes.length) showAlert(notes.join(" "));
      return;
    }
    var message = (body && body.message) || "the server refused the save.";
    if (status === 409) {
      close(message);
      return;
    }
    lastError = message;
    scheduleRetry();
  }

  // -- closing -----------------------------------------------------------------------------------

  function close(message) {
    if (closed) return;
    closed = true;
    clearTimeout(retryTimer);
    clearTimeout(debounceTimer);
    $all("fieldset.viva-question, [data-flag-position]").forEach(function (element) {
      element.disabled = true;
    });
    setSaveState(message, "closed");
    showAlert(message + " You will be taken to your attempt.", {
      href: config.urls.results,
      text: "Go to your attempt now",
    });
    setTimeout(function () {
      window.location.assign(config.urls.results);
    }, 4000);
  }

  var submitting = false;
  function autoSubmit() {
    if (submitting || closed) return;
    submitting = true;
    var form = document.querySelector("[data-viva-auto-submit]");
    var go = function () {
      if (form) {
        form.submit();
      } else {
        window.location.assign(config.urls.results);
      }
    };
    commitAndFlush().then(go, go);
  }

  // -- the countdown -----------------------------------------------------------------------------

  var clock = $("[data-viva-clock]");
  var announce = $("[data-viva-announce-time]");
  var announced = {};
  var timeUpShown = false;

  function tick() {
    if (!clock || deadline === null) return;
    var left = deadline - serverNow();
    clock.textContent = left > 0 ? formatLeft(left) : "0:00";
    clock.setAttribute("data-seconds-left", String(Math.max(0, Math.ceil(left / 1000))));
    clock.classList.toggle("is-low", left <= 5 * 60000);
    [5, 1].forEach(function (minutes) {
      if (left <= minutes * 60000 && left > (minutes * 60000) - 5000 && !announced[minutes]) {
        announced[minutes] = true;
        if (announce) announce.textContent = plural(minutes, "minute") + " left.";
      }
    });
    if (left > 0 || closed) return;
    if (config.overdue_policy === "auto_submit") {
      if (!timeUpShown) showAlert("Time is up: your answers are being submitted.");
      timeUpShown = true;
      if (isPlayer || config.mode === "summary") autoSubmit();
    } else if (left + graceMs > 0) {
      if (!timeUpShown) {
        timeUpShown = true;
        showAlert(
          "Time is up. Answers still reach the server for " +
            plural(Math.ceil((left + graceMs) / 1000), "second") +
            ": finish now."
        );
      }
    } else if (config.overdue_policy === "grace") {
      autoSubmit();
    } else {
      close("Time is up: answers after the deadline are not accepted.");
    }
  }

  // -- the server's view: state polling ---------------------------------------------------------

  function pollState() {
    var sentAt = mono();
    return fetch(config.urls.state, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        var receivedAt = mono();
        if (!response.ok) return;
        return response.json().then(function (body) {
          syncClock(body.now, sentAt, receivedAt);
          setDeadline(body.deadline);
          graceMs = (body.grace_seconds || 0) * 1000;
          counter = Math.max(counter, body.max_seq || 0);
          if (body.status !== "in_progress") {
            close(body.status === "abandoned" ? "This attempt has been closed." : "This attempt has been submitted; answers are not saved.");
          }
        });
      })
      .catch(function () {
        /* offline: the queue and its retries say so */
      });
  }

  // -- integrity signals --------------------------------------------------------------------------

  var events = [];
  var eventsTimer = null;

  function report(kind, detail) {
    if (events.length >= 500) return;
    var at = null;
    try {
      at = new Date().toISOString(); // the browser's own word, kept as context only
    } catch (e) {
      at = null;
    }
    events.push({ kind: kind, at: at, detail: detail || {} });
    clearTimeout(eventsTimer);
    eventsTimer = setTimeout(sendEvents, EVENTS_DELAY_MS);
  }

  function sendEvents(keepalive) {
    if (!events.length) return;
    var batch = events.splice(0, 100);
    postJson(config.urls.events, batch, { keepalive: keepalive === true })
      .then(function (response) {
        if (response.status >= 500) throw new Error("server");
        if (events.length) eventsTimer = setTimeout(sendEvents, EVENTS_DELAY_MS);
      })
      .catch(function () {
        events = batch.concat(events);
        clearTimeout(eventsTimer);
        eventsTimer = setTimeout(sendEvents, 15000);
      });
  }

  var wasFullscreen = !!document.fullscreenElement;
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      report("tab_hidden");
      commit();
      flush();
      sendEvents(true);
    } else {
      report("tab_visible");
      pollState();
      flush();
    }
  });
  window.addEventListener("blur", function () {
    report("window_blur");
  });
  window.addEventListener("focus", function () {
    report("window_focus");
  });
  document.addEventListener("paste", function (event) {
    var fieldset = event.target && event.target.closest && event.target.closest("fieldset.viva-question");
    var text = "";
    try {
      text = event.clipboardData ? event.clipboardData.getData("text") : "";
    } catch (e) {
      text = "";
    }
    report("paste", { position: fieldset ? +fieldset.getAttribute("data-position") : null, length: text.length });
  });
  document.addEventListener("fullscreenchange", function () {
    if (wasFullscreen && !document.fullscreenElement) report("fullscreen_exit");
    wasFullscreen = !!document.fullscreenElement;
  });
  window.addEventListener("offline", function () {
    offline = true;
    report("offline");
    showQueueState();
  });
  window.addEventListener("online", function () {
    offline = false;
    report("online");
    backoff = 0;
    clearTimeout(retryTimer);
    retryTimer = null;
    flush();
    pollState();
  });
  window.addEventListener("pagehide", function () {
    commit();
    sendEvents(true);
  });

  // -- navigation (free mode: one question shown at a time) ---------------------------------------

  var items = $all(".player__item");

  function show(position, focus) {
    if (!items.length || root.querySelector(".player__items[data-single]") === null) return;
    var target = null;
    items.forEach(function (item) {
      var here = item.getAttribute("data-item-position") === String(position);
      item.hidden = !here;
      if (here) target = item;
    });
    if (!target) {
      target = items[0];
      target.hidden = false;
      position = target.getAttribute("data-item-position");
    }
    $all(".palette [data-goto]").forEach(function (link) {
      if (link.getAttribute("data-goto") === String(position)) {
        link.setAttribute("aria-current", "step");
      } else {
        link.removeAttribute("aria-current");
      }
    });
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "#item-" + position);
    }
    if (focus) target.focus();
  }

  function initialPosition() {
    var match = /^#item-(\d+)$/.exec(window.location.hash);
    return match ? match[1] : items.length ? items[0].getAttribute("data-item-position") : null;
  }

  // -- wiring ----------------------------------------------------------------------------------

  function restoreQueue() {
    // Answers still queued from before a reload or a crash: newer than what the server holds
    // go back into the form (and stay queued); the others are dropped.
    var adopted = [];
    updateStore(function (store) {
      Object.keys(store.pending).forEach(function (position) {
        var entry = store.pending[position];
        var held = acked[position];
        if (held && held.seq >= entry.seq) {
          delete store.pending[position];
        } else {
          adopted.push([position, entry]);
        }
      });
    });
    adopted.forEach(function (pair) {
      adopt(pair[0], pair[1].value, pair[1].flagged);
    });
  }

  function setUpPlayer() {
    var list = $(".player__items");
    if (list && !config.sequential) {
      list.setAttribute("data-single", "");
      show(initialPosition(), false);
    }
    root.addEventListener("viva:response-change", function (event) {
      var fieldset = event.target.closest("fieldset.viva-question");
      if (fieldset) markDirty(fieldset.getAttribute("data-position"));
    });
    root.addEventListener("change", function (event) {
      var flag = event.target.closest && event.target.closest("[data-flag-position]");
      if (flag) {
        markDirty(flag.getAttribute("data-flag-position"));
        commitAndFlush();
      }
    });
    root.addEventListener("focusout", function (event) {
      if (event.target.closest && event.target.closest("fieldset.viva-question") && Object.keys(dirty).length) {
        commitAndFlush();
      }
    });
    root.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("[data-goto]");
      if (link && root.querySelector(".player__items[data-single]")) {
        event.preventDefault();
        commitAndFlush();
        show(link.getAttribute("data-goto"), true);
        return;
      }
      var leave = event.target.closest && event.target.closest("[data-viva-leave]");
      if (leave) {
        event.preventDefault();
        var go = function () {
          window.location.assign(leave.href);
        };
        var timer = setTimeout(go, 4000);
        commitAndFlush().then(function () {
          clearTimeout(timer);
          go();
        });
      }
    });
    var advance = $("[data-viva-advance]");
    if (advance) {
      advance.addEventListener("submit", function (event) {
        event.preventDefault();
        commitAndFlush().then(function () {
          var waiting = pendingCount();
          if (waiting && !closed) {
            showAlert(
              "Your answer is not saved yet (" + plural(waiting, "answer") + " waiting). " +
                "Check your connection, then press Next question again."
            );
          } else if (!closed) {
            advance.submit();
          }
        });
      });
    }
    window.addEventListener("hashchange", function () {
      var match = /^#item-(\d+)$/.exec(window.location.hash);
      if (match) show(match[1], true);
    });
  }

  function setUpSummary() {
    var form = $("[data-viva-submit]");
    if (!form) return;
    form.addEventListener("submit", function (event) {
      if (!pendingCount()) return;
      event.preventDefault();
      flush().then(function () {
        var waiting = pendingCount();
        if (waiting) {
          showAlert(
            plural(waiting, "answer") +
              " are kept only in this browser. Connect to the network so they are saved before you submit."
          );
        } else {
          form.submit();
        }
      });
    });
  }

  function start() {
    rememberShownAnswers();
    restoreQueue();
    if (isPlayer) setUpPlayer();
    else setUpSummary();
    var hadPending = pendingCount();
    showQueueState();
    var first = flush();
    if (!isPlayer && hadPending) {
      // Answers queued while offline reached the server: show the summary as it is now.
      first.then(function () {
        if (!pendingCount() && !closed) window.location.reload();
      });
    }
    pollState();
    tick();
    setInterval(tick, 1000);
    setInterval(pollState, STATE_POLL_MS);
    setInterval(function () {
      if (pendingCount() && !inFlight && !retryTimer) flush();
    }, 15000);
  }

  // webcam.js reports the camera's state through the same batched, retried queue.
  window.VivaPlayer = { report: report };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
