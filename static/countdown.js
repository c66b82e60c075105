// Ticks every [data-countdown] element (mm:ss) toward its data-expires-at.
// Time is the server's: the offset between data-server-now and this device's
// clock is taken when the element arrives, so a skewed device clock does not
// matter, and each poll brings a fresh element (and offset), so the server wins.
// At zero it fires "countdown-expired" (bubbling) for htmx to ask the server.
(function () {
  function face(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    var mm = String(m).padStart(2, "0"), ss = String(s).padStart(2, "0");
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }
  function tick() {
    document.querySelectorAll("[data-countdown]").forEach(function (el) {
      if (el.offsetMs === undefined) el.offsetMs = Date.parse(el.dataset.serverNow) - Date.now();
      var left = Math.max(0, Math.ceil((Date.parse(el.dataset.expiresAt) - Date.now() - el.offsetMs) / 1000));
      el.textContent = face(left);
      if (left === 0 && !el.fired) {
        el.fired = true;
        el.dispatchEvent(new CustomEvent("countdown-expired", { bubbles: true }));
      }
    });
  }
  setInterval(tick, 250);
  document.addEventListener("DOMContentLoaded", tick);
})();
