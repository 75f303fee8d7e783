// Import job page: poll the job's status JSON and move the progress bar; when the job stops
// running (preview ready, imported or failed), reload so the server renders the result.
// An external file because the admin's Content Security Policy allows scripts from 'self'.
(function () {
  "use strict";

  var root = document.querySelector("[data-import-job]");
  if (!root) {
    return;
  }
  var running = ["queued", "previewing", "committing"];
  if (running.indexOf(root.dataset.status) === -1) {
    return;
  }
  var bar = root.querySelector("[data-import-progress]");
  var text = root.querySelector("[data-import-progress-text]");
  var label = root.querySelector("[data-import-status-label]");
  var delay = 1000;

  function show(state) {
    var total = Math.max(state.total, 1);
    if (bar) {
      bar.max = total;
      bar.value = state.done;
      bar.setAttribute("aria-valuemax", String(total));
      bar.setAttribute("aria-valuenow", String(state.done));
    }
    if (text) {
      text.textContent = state.total
        ? state.done + " of " + state.total + " questions"
        : "Waiting to start…";
    }
    if (label) {
      label.textContent = state.label;
    }
  }

  function poll() {
    fetch(root.dataset.statusUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("status " + response.status);
        }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (state.running) {
          delay = 1000;
          window.setTimeout(poll, delay);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        delay = Math.min(delay * 2, 15000); // back off while the server is unreachable
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, 500);
})();
