// The door (dashboard check-in page): the phone's camera reads QR codes (qr-scanner) and
// posts each through the same htmx form as a typed code, so both get the same answer.
// The device name is remembered on this device and sent with every scan. A code the
// camera keeps seeing is posted once, not on every frame: the same code again within
// DEBOUNCE_MS of its last sighting is ignored (a ticket held up a little long is not
// "already checked in" by our own second post). What it says comes translated from the
// page (the data-text-* attributes of the .scanner box, rendered by dashboard/checkin.html).
(function () {
  var DEBOUNCE_MS = 3000;
  var DEVICE_KEY = "eventsite.checkin.device";

  function init() {
    var form = document.getElementById("scan-form");
    if (!form) return;
    var device = form.elements.device, code = form.elements.code;
    var state = document.getElementById("camera-state"), toggle = document.getElementById("camera-toggle");
    var say = state.parentNode.dataset;  // textNoScanner, textCameraOn, textNoCamera, textCameraOff, ...

    try { device.value = localStorage.getItem(DEVICE_KEY) || device.value; } catch (e) { /* private mode */ }
    device.addEventListener("input", function () {
      try { localStorage.setItem(DEVICE_KEY, device.value.trim()); } catch (e) { /* private mode */ }
    });
    // A typed code is done once answered: clear it for the next one.
    form.addEventListener("htmx:afterRequest", function () { code.value = ""; });

    var last = { text: null, at: 0 };
    function scanned(text) {
      var now = Date.now(), repeat = text === last.text && now - last.at < DEBOUNCE_MS;
      last = { text: text, at: now };
      if (repeat || form.classList.contains("htmx-request")) return;
      code.value = text;
      form.requestSubmit();
    }

    if (!window.QrScanner) {
      state.textContent = say.textNoScanner;
      return;
    }
    var scanner = new QrScanner(document.getElementById("scanner-video"), function (result) {
      scanned(result.data);
    }, { returnDetailedScanResult: true, maxScansPerSecond: 10, preferredCamera: "environment" });
    var running = false;

    function start() {
      scanner.start().then(function () {
        running = true;
        state.textContent = say.textCameraOn;
        toggle.textContent = say.textStop;
        toggle.hidden = false;
      }, function (error) {
        state.textContent = say.textNoCamera.replace("{error}", function () { return String(error); });
        toggle.textContent = say.textRetry;
        toggle.hidden = false;
      });
    }
    function stop() {
      scanner.stop();
      running = false;
      state.textContent = say.textCameraOff;
      toggle.textContent = say.textStart;
    }
    toggle.addEventListener("click", function () { running ? stop() : start(); });
    window.addEventListener("pagehide", function () { scanner.stop(); });
    start();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
