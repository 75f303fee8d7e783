/*
 * The bank's preview page: "Check answer" sends what VivaResponses.collect() returns as JSON,
 * and the result is brought into view and focus after the page reloads.
 */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-viva-preview")) return;
    var fieldset = form.querySelector("fieldset.viva-question");
    form.elements.response.value = JSON.stringify(window.VivaResponses.collect(fieldset));
  });

  function focusResult() {
    var heading = document.getElementById("result-heading");
    if (heading) heading.focus();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusResult);
  } else {
    focusResult();
  }
})();
