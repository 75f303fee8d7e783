/*
 * Typesets math with the vendored KaTeX (no CDN): \( … \) inline, \[ … \] and $$ … $$ display.
 * Runs on every element with the class "viva-math" when the page has loaded; call
 * VivaMath.render(element) for content added later. Inputs, textareas and options are left
 * alone (KaTeX's auto-render ignores them), so what a candidate types is never rewritten.
 */
(function () {
  "use strict";

  var OPTIONS = {
    delimiters: [
      { left: "$$", right: "$$", display: true },
      { left: "\\[", right: "\\]", display: true },
      { left: "\\(", right: "\\)", display: false },
    ],
    throwOnError: false,
  };

  function render(root) {
    if (typeof window.renderMathInElement !== "function") return;
    var scope = root || document;
    var targets = scope.classList && scope.classList.contains("viva-math") ? [scope] : [];
    targets = targets.concat(Array.prototype.slice.call(scope.querySelectorAll(".viva-math")));
    targets.forEach(function (element) {
      window.renderMathInElement(element, OPTIONS);
    });
  }

  window.VivaMath = { render: render };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      render(document);
    });
  } else {
    render(document);
  }
})();
