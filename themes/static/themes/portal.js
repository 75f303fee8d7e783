// Light/dark mode toggle and service worker registration for portal pages.
(function () {
  var root = document.documentElement;
  var stored = null;
  try { stored = localStorage.getItem("viva-mode"); } catch (e) {}
  if (stored === "light" || stored === "dark" || stored === "auto") root.dataset.mode = stored;

  function label(mode) {
    var button = document.getElementById("mode-toggle");
    if (!button) return;
    button.setAttribute("aria-label", button.dataset["label" + mode.charAt(0).toUpperCase() + mode.slice(1)]);
    button.dataset.current = mode;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("mode-toggle");
    if (button) {
      label(root.dataset.mode);
      button.addEventListener("click", function () {
        var next = { light: "dark", dark: "auto", auto: "light" }[root.dataset.mode] || "light";
        root.dataset.mode = next;
        try { localStorage.setItem("viva-mode", next); } catch (e) {}
        label(next);
      });
    }
    if ("serviceWorker" in navigator && root.dataset.serviceWorker) {
      navigator.serviceWorker.register(root.dataset.serviceWorker, { scope: "/" }).catch(function () {});
    }
  });
})();
