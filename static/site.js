// Behaviour every page shares, kept in a file because the Content-Security-Policy allows
// no inline script (no onclick="...") and no eval (so no htmx trigger filters either).
(function () {
  // A page nobody looks at asks the server nothing: while the tab is hidden, timed polls
  // (hx-trigger "every Ns": htmx gives them no triggering event) and visibilitychange
  // triggers are cancelled. Shown again, a fragment listening for visibilitychange catches up.
  document.addEventListener("htmx:confirm", function (event) {
    if (document.visibilityState === "visible") return;
    var trigger = event.detail.triggeringEvent;
    if (!trigger || trigger.type === "visibilitychange") event.preventDefault();
  });

  // Print buttons: <button type="button" data-print>.
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });
})();
