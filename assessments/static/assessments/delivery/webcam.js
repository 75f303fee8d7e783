/*
 * Webcam proctoring in the candidate's browser (loaded only on the pages of a webcam exam).
 *
 *  - Landing page: "Check my camera" shows the camera's picture before the clock starts.
 *  - Player: the questions stay hidden behind a gate until getUserMedia gives a camera; a
 *    refusal or a missing camera says how to fix it, with "Try again". Then a 320×240 JPEG
 *    (at most 100 KB: the quality drops until it fits) is taken from a canvas every
 *    config.webcam_interval seconds and posted to config.urls.snapshot. A failed upload is
 *    retried with backoff (a newer snapshot replaces a waiting one); nothing here ever blocks
 *    answering. The camera's state (on, stopped, refused) is reported as integrity events
 *    through player.js (window.VivaPlayer.report).
 *  - Summary page: the same capture, without a gate.
 */
(function () {
  "use strict";

  var WIDTH = 320;
  var HEIGHT = 240;
  var MAX_BYTES = 100 * 1024;
  var QUALITIES = [0.7, 0.5, 0.35, 0.2];

  function openCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.reject({ name: "Unsupported" });
    }
    return navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: WIDTH }, height: { ideal: HEIGHT }, facingMode: "user" },
      audio: false,
    });
  }

  /** What went wrong, in words a candidate can act on. */
  function describe(error) {
    var name = (error && error.name) || "";
    if (name === "NotAllowedError" || name === "SecurityError") {
      return "Your browser is blocking the camera for this site.";
    }
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") {
      return "No camera was found on this device.";
    }
    if (name === "NotReadableError" || name === "TrackStartError" || name === "AbortError") {
      return "The camera is in use by another program or could not be started.";
    }
    if (name === "Unsupported") {
      return "This browser cannot use a camera here. Use an up-to-date Chrome, Edge, Firefox or Safari.";
    }
    return "The camera could not be started.";
  }

  function stopStream(stream) {
    if (!stream) return;
    stream.getTracks().forEach(function (track) {
      track.stop();
    });
  }

  // -- the landing page's camera check ----------------------------------------------------------

  function setUpCheck(box) {
    var button = box.querySelector("[data-viva-camera-check-button]");
    var status = box.querySelector("[data-viva-camera-check-status]");
    var video = box.querySelector("[data-viva-camera-check-video]");
    var stream = null;
    button.addEventListener("click", function () {
      status.textContent = "Asking your browser for the camera…";
      openCamera().then(
        function (s) {
          stopStream(stream);
          stream = s;
          video.srcObject = s;
          video.hidden = false;
          status.textContent = "Your camera works. You can start the exam.";
          setTimeout(function () {
            stopStream(stream);
            stream = null;
            video.hidden = true;
          }, 15000);
        },
        function (error) {
          status.textContent =
            describe(error) +
            " Allow the camera for this site (camera or padlock icon in the address bar), close other programs using it, then check again.";
        }
      );
    });
    window.addEventListener("pagehide", function () {
      stopStream(stream);
    });
  }

  var check = document.querySelector("[data-viva-camera-check]");
  if (check) setUpCheck(check);

  // -- capture during the attempt -----------------------------------------------------------------

  var configElement = document.getElementById("viva-player-config");
  var root = document.querySelector("[data-viva-player]");
  if (!configElement || !root) return;
  var config = JSON.parse(configElement.textContent);
  if (!config.webcam_interval) return;

  var intervalMs = config.webcam_interval * 1000;
  var gate = root.querySelector("[data-viva-camera-gate]");
  var gateStatus = root.querySelector("[data-viva-camera-status]");
  var gateHelp = root.querySelector("[data-viva-camera-help]");
  var retryButton = root.querySelector("[data-viva-camera-retry]");
  var lost = root.querySelector("[data-viva-camera-lost]");
  var restartButton = root.querySelector("[data-viva-camera-restart]");
  var preview = root.querySelector("[data-viva-camera-preview]");
  var video = root.querySelector("[data-viva-camera-video]");
  var canvas = document.createElement("canvas");
  canvas.width = WIDTH;
  canvas.height = HEIGHT;

  var stream = null;
  var captureTimer = null;
  var waiting = null; // the latest snapshot not yet accepted by the server
  var sending = false;
  var backoff = 0;
  var retryTimer = null;
  var finished = false; // the server said the attempt is closed: stop for good
  var refusalReported = false;

  function report(kind, detail) {
    if (window.VivaPlayer) window.VivaPlayer.report(kind, detail);
  }

  function csrfToken() {
    var match = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    if (match) return decodeURIComponent(match[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function unlock() {
    if (gate) gate.hidden = true;
    var locked = document.querySelectorAll("[data-viva-camera-locked]");
    var wasLocked = false;
    Array.prototype.forEach.call(locked, function (element) {
      wasLocked = wasLocked || element.hidden;
      element.hidden = false;
    });
    if (wasLocked) {
      var first = root.querySelector(".player__item:not([hidden])");
      if (first) first.focus();
    }
  }

  function attach(s) {
    stopStream(stream);
    stream = s;
    video.srcObject = s;
    preview.hidden = false;
    lost.hidden = true;
    s.getVideoTracks().forEach(function (track) {
      track.addEventListener("ended", function () {
        if (stream !== s) return;
        stream = null;
        preview.hidden = true;
        lost.hidden = false;
        report("camera_off", { reason: "ended" });
      });
    });
    report("camera_on");
    var played = video.play();
    var first = function () {
      capture(0);
    };
    if (played && played.then) played.then(first, first);
    else first();
    clearInterval(captureTimer);
    captureTimer = setInterval(function () {
      capture(0);
    }, intervalMs);
  }

  function refused(error) {
    var text = describe(error);
    if (!refusalReported) {
      refusalReported = true;
      report("camera_refused", { reason: (error && error.name) || "unknown" });
    }
    return text;
  }

  function askForCamera() {
    if (gateStatus) gateStatus.textContent = "Asking your browser for the camera…";
    openCamera().then(
      function (s) {
        attach(s);
        unlock();
      },
      function (error) {
        var text = refused(error);
        if (gateStatus) gateStatus.textContent = text + " The questions appear once the camera is on.";
        if (gateHelp) gateHelp.hidden = false;
        if (retryButton) retryButton.hidden = false;
        if (!gate) lost.hidden = false; // the summary page: no gate, say it here
      }
    );
  }

  function restart() {
    openCamera().then(attach, function (error) {
      var text = lost.querySelector("p");
      if (text) text.textContent = refused(error) + " Your answers are still saved; allow the camera and try again.";
    });
  }

  /** Draw the current frame and post it; waits (a few times) for the first frame. */
  function capture(tries) {
    if (finished || !stream) return;
    if (!video.videoWidth) {
      if (tries < 20) setTimeout(function () { capture(tries + 1); }, 250);
      return;
    }
    canvas.getContext("2d").drawImage(video, 0, 0, WIDTH, HEIGHT);
    encode(0);
  }

  function encode(step) {
    canvas.toBlob(
      function (blob) {
        if (!blob) return;
        if (blob.size > MAX_BYTES && step + 1 < QUALITIES.length) {
          encode(step + 1);
          return;
        }
        if (blob.size > MAX_BYTES) return; // never happens at 320×240; never sent oversize
        waiting = blob;
        backoff = 0;
        clearTimeout(retryTimer);
        retryTimer = null;
        send();
      },
      "image/jpeg",
      QUALITIES[step]
    );
  }

  function retryLater() {
    clearTimeout(retryTimer);
    backoff = backoff ? Math.min(intervalMs / 2, backoff * 2) : 2000;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      send();
    }, backoff);
  }

  function send() {
    if (sending || !waiting || finished) return;
    var blob = waiting;
    sending = true;
    fetch(config.urls.snapshot, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "image/jpeg", "X-CSRFToken": csrfToken() },
      body: blob,
    })
      .then(
        function (response) {
          if (response.status === 201 || response.status === 429) {
            // Stored, or one was stored moments ago: either way this one is done.
            if (waiting === blob) waiting = null;
            backoff = 0;
          } else if (response.status === 409) {
            finished = true; // the attempt is closed
            clearInterval(captureTimer);
          } else if (response.status >= 500 || response.status === 408) {
            retryLater();
          } else if (waiting === blob) {
            waiting = null; // refused as it is: sending it again would not help
          }
        },
        function () {
          retryLater(); // offline: try again, a newer snapshot replaces this one meanwhile
        }
      )
      .then(function () {
        sending = false;
        if (waiting && waiting !== blob && !retryTimer) send();
      });
  }

  if (retryButton) retryButton.addEventListener("click", askForCamera);
  if (restartButton) restartButton.addEventListener("click", restart);
  window.addEventListener("pagehide", function () {
    stopStream(stream);
  });

  askForCamera();
})();
