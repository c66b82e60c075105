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

  // After a swap the buyer asked for (a submit or a click, never a poll), keyboard focus moves to
  // the new content instead of dropping to the page body: to its element marked data-focus, else its
  // alert, else its first heading. Content with autofocus is left to htmx, which honours that itself.
  // After settling, not swapping: by then htmx has wired the new controls, so Enter works at once.
  document.addEventListener("htmx:afterSettle", function (event) {
    var trigger = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    if (!trigger || (trigger.type !== "submit" && trigger.type !== "click")) return;
    var target = event.detail.target;
    // An outerHTML swap replaced the target itself: its successor carries the same id.
    if (!target.isConnected && target.id) target = document.getElementById(target.id);
    if (!target || target.querySelector("[autofocus]")) return;
    var found = target.matches("[data-focus]") ? target
      : target.querySelector("[data-focus]") || target.querySelector("[role=alert]")
        || target.querySelector("h1, h2, h3");
    if (!found) return;
    if (!found.hasAttribute("tabindex")) found.setAttribute("tabindex", "-1");
    found.focus();
  });

  // Print buttons: <button type="button" data-print>.
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });
})();
