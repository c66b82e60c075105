// Timing Adjustable (WCAG 2.2.1) on the reservation page.
// At 60 seconds left the alert dialog (#renew-dialog) opens once per expiry: a refused renewal
// re-renders the page with the same expiry, and the buyer must then read why, not see the
// dialog again. Focus goes to "Keep my tickets", and back where it was when the dialog closes.
// A polite live region says the minutes left once a minute and at the warning, since the
// ticking timer itself (role="timer") is not announced.
// Seconds left are the server's: the polled status brings data-seconds-left as of its own
// clock, and only the time since that answer arrived is counted here.
(function () {
  var WARN_AT = 60;
  var warned = {};  // data-expires-at values this page has warned about

  function secondsLeft(timer) {
    if (timer.arrivedAt === undefined) timer.arrivedAt = Date.now();
    return Number(timer.dataset.secondsLeft) - (Date.now() - timer.arrivedAt) / 1000;
  }

  function announce(left) {
    var region = document.getElementById("hold-announcer");
    if (!region) return;
    var minutes = Math.ceil(left / 60);
    // The first reading only sets the baseline: the page itself has just said the time.
    if (region.minutes !== undefined && minutes !== region.minutes && left > 0) {
      // The words are the page's, in its language (data-* rendered by templates/shop/_reservation.html).
      var words = region.dataset;
      region.textContent = left <= WARN_AT
        ? words.lastMinute
        : (minutes === 1 ? words.minuteLeft : words.minutesLeft).replace("{minutes}", minutes);
    }
    region.minutes = minutes;
  }

  function warn(dialog) {
    var returnTo = document.activeElement;
    dialog.addEventListener("close", function () {
      // A poll may have replaced the element meanwhile: its successor has the same id.
      var target = returnTo && (returnTo.isConnected ? returnTo : returnTo.id && document.getElementById(returnTo.id));
      if (target && target !== document.body) target.focus();
    }, { once: true });
    dialog.showModal();
    document.getElementById("renew-dialog-keep").focus();
  }

  function check() {
    var timer = document.querySelector("#hold-status [data-countdown]");
    if (!timer) return;
    var left = secondsLeft(timer);
    announce(left);
    var dialog = document.getElementById("renew-dialog");
    var expiry = timer.dataset.expiresAt;
    if (dialog && !dialog.open && left > 0 && Math.ceil(left) <= WARN_AT && !warned[expiry]) {
      warned[expiry] = true;
      warn(dialog);
    }
  }

  setInterval(check, 250);
  document.addEventListener("DOMContentLoaded", check);
})();
