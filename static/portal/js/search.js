/*
 * Search box autocomplete (ARIA combobox): suggestions from /api/search/ as you type, arrow
 * keys to move, Enter to open. Without this script the box submits to /search/.
 */
(function () {
  "use strict";
  var input = document.getElementById("search-q");
  var box = document.getElementById("search-suggestions");
  var status = document.getElementById("search-status");
  if (!input || !box) return;
  var hits = [];
  var active = -1;
  var timer;

  function close() {
    box.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function render() {
    box.innerHTML = "";
    hits.forEach(function (h, i) {
      var li = document.createElement("li");
      li.id = "search-hit-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === active ? "true" : "false");
      li.className = "search-hit" + (i === active ? " is-active" : "");
      var kind = document.createElement("span");
      kind.className = "search-kind";
      kind.textContent = h.kind_label;
      var name = document.createElement("span");
      name.textContent = h.name;
      name.lang = "zh-Hans"; // names and addresses are data, in the city's language
      var detail = document.createElement("small");
      detail.textContent = h.detail;
      detail.lang = "zh-Hans";
      li.append(kind, name, detail);
      li.addEventListener("mousedown", function (e) {
        e.preventDefault();
        location.href = h.url;
      });
      box.appendChild(li);
    });
    box.hidden = hits.length === 0;
    input.setAttribute("aria-expanded", hits.length ? "true" : "false");
    if (active >= 0) input.setAttribute("aria-activedescendant", "search-hit-" + active);
    else input.removeAttribute("aria-activedescendant");
    if (status) {
      status.textContent = hits.length ? interpolate(ngettext(
        "%(n)s 条建议，用上下方向键选择", "%(n)s 条建议，用上下方向键选择", hits.length
      ), { n: hits.length }, true) : "";
    }
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (!q) { hits = []; close(); return; }
    timer = setTimeout(function () {
      fetch("/api/search/?q=" + encodeURIComponent(q))
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (input.value.trim() !== q) return;
          hits = body.results;
          active = -1;
          render();
        });
    }, 150);
  });

  input.addEventListener("keydown", function (e) {
    if (box.hidden) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      var step = e.key === "ArrowDown" ? 1 : -1;
      var n = hits.length;
      active = active < 0 ? (step > 0 ? 0 : n - 1) : (active + step + n) % n;
      render();
    } else if (e.key === "Enter" && active >= 0) {
      e.preventDefault();
      location.href = hits[active].url;
    } else if (e.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", function () { setTimeout(close, 100); });
})();
