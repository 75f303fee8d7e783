/* Interview practice: answer by speaking where the browser has speech recognition.
   The transcript lands in the textarea, stays editable, and the time spent speaking is sent
   with the answer so the server can compute the speaking pace. Without speech recognition
   the page is a plain form. Loaded as an external script (strict nonce CSP). */
(function () {
  "use strict";

  function words(text) {
    var found = (text || "").trim().match(/\S+/g);
    return found ? found.length : 0;
  }

  function init() {
    var form = document.querySelector("[data-practice-form]");
    if (!form) return;
    var textarea = form.querySelector("textarea[name=transcript]");
    var counter = form.querySelector("[data-word-count]");
    var mode = form.querySelector("[data-input-mode]");
    var seconds = form.querySelector("[data-speaking-seconds]");

    function updateCount() {
      if (counter) counter.textContent = words(textarea.value) + " words";
    }
    textarea.addEventListener("input", updateCount);
    updateCount();

    var Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;
    var box = form.querySelector("[data-speech]");
    if (!Recognition || !box) return;
    box.hidden = false;
    var toggle = box.querySelector("[data-speech-toggle]");
    var status = box.querySelector("[data-speech-status]");
    var recognition = new Recognition();
    recognition.continuous = true;
    recognition.interimResults = true;
    recognition.lang = document.documentElement.lang || "en";

    var listening = false;
    var startedAt = 0;
    var spoken = 0;
    var base = "";

    function setListening(on) {
      listening = on;
      toggle.setAttribute("aria-pressed", on ? "true" : "false");
      toggle.textContent = on ? "Stop speaking" : "Speak your answer";
      status.textContent = on ? "Listening… speak now." : spoken ? "Stopped. Edit the transcript if needed, then submit." : "";
    }

    recognition.addEventListener("result", function (event) {
      var finalText = "";
      var interim = "";
      for (var i = 0; i < event.results.length; i++) {
        var piece = event.results[i][0].transcript;
        if (event.results[i].isFinal) finalText += piece;
        else interim += piece;
      }
      textarea.value = (base ? base + " " : "") + (finalText + interim).trim();
      updateCount();
    });
    recognition.addEventListener("end", function () {
      if (listening) {
        spoken += (performance.now() - startedAt) / 1000;
        seconds.value = spoken.toFixed(1);
        setListening(false);
      }
    });
    recognition.addEventListener("error", function (event) {
      status.textContent = event.error === "not-allowed"
        ? "The microphone is blocked for this site: type your answer instead."
        : "Speech recognition stopped (" + event.error + "). You can type instead.";
    });

    toggle.addEventListener("click", function () {
      if (listening) {
        recognition.stop();
        return;
      }
      base = textarea.value.trim();
      startedAt = performance.now();
      mode.value = "spoken";
      try {
        recognition.start();
        setListening(true);
      } catch (err) {
        status.textContent = "Speech recognition could not start. You can type instead.";
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
