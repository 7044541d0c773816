/*
 * The header menu on phones: the "菜单" button shows and hides the site's links.
 * Loaded in <head> (not deferred) so the "js" class is set before the header is drawn: a phone
 * never sees the full list flash. Without this script the links simply stay visible.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function setUp() {
    var button = document.querySelector(".menu-toggle");
    var nav = button && document.getElementById(button.getAttribute("aria-controls"));
    if (!nav) return;

    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("is-open", open);
    }

    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    // Escape closes the menu from the button or any of its links, and gives focus back.
    document.addEventListener("keydown", function (e) {
      if (e.key !== "Escape" || button.getAttribute("aria-expanded") !== "true") return;
      if (e.target !== button && !nav.contains(e.target)) return;
      setOpen(false);
      button.focus();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
