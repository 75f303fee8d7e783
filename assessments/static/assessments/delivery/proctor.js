// The proctor's live list refreshes itself, unless someone is using its filter.
(function () {
  "use strict";
  var box = document.querySelector("[data-auto-refresh]");
  if (!box) return;
  var seconds = parseInt(box.getAttribute("data-auto-refresh"), 10) || 20;
  setInterval(function () {
    var active = document.activeElement;
    if (active && box.contains(active) && /^(SELECT|INPUT|TEXTAREA)$/.test(active.tagName)) return;
    window.location.reload();
  }, seconds * 1000);
})();
