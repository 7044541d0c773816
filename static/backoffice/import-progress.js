/* Staff stock import: show upload progress for big files; the server's answer replaces the
   page as a normal submission would. */
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  var bar = document.getElementById("upload-progress");
  if (!form || !bar || !window.XMLHttpRequest || !window.FormData) return;
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || location.href);
    bar.hidden = false;
    xhr.upload.onprogress = function (ev) {
      if (ev.lengthComputable) bar.value = Math.round((ev.loaded / ev.total) * 100);
    };
    xhr.onload = function () {
      document.open();
      document.write(xhr.responseText);
      document.close();
    };
    xhr.send(new FormData(form));
  });
})();
