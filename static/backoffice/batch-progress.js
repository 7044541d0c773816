/* 档案批量下载: refresh the progress of queued and running batches every few seconds from
   their JSON status; when one finishes the page reloads to show its link. Without JavaScript
   the "刷新进度" link does the same. */
(function () {
  "use strict";
  var rows = document.querySelectorAll("tr[data-status-url]");
  if (!rows.length || !window.fetch) return;
  var announce = document.getElementById("batch-announce");

  function poll(row) {
    fetch(row.getAttribute("data-status-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) return;
        var bar = row.querySelector("progress");
        bar.value = s.percent;
        bar.textContent = s.percent + "%";
        row.querySelector("[data-role=count]").textContent = s.done + " / " + s.total;
        if (s.status === "queued" || s.status === "running") {
          row.querySelector("[data-role=label]").textContent = s.label;
          setTimeout(function () { poll(row); }, 2000);
        } else {
          if (announce) announce.textContent = s.label;
          location.reload();
        }
      })
      .catch(function () { setTimeout(function () { poll(row); }, 10000); });
  }

  for (var i = 0; i < rows.length; i++) poll(rows[i]);
})();
