/* The staff round page's choosing board refreshes itself every 15 s from its data-live URL,
   but never while someone is working inside it. */
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || !window.fetch || !board.dataset.live) return;
  var url = board.dataset.live;
  setInterval(function () {
    if (document.hidden || board.contains(document.activeElement) || board.querySelector("details[open]")) return;
    board.setAttribute("aria-busy", "true");
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.text();
      })
      .then(function (html) {
        var t = document.createElement("template");
        t.innerHTML = html;
        var fresh = t.content.getElementById("board");
        if (fresh) {
          board.replaceWith(fresh);
          board = fresh;
        }
      })
      .catch(function () {})
      .then(function () { board.removeAttribute("aria-busy"); });
  }, 15000);
})();
