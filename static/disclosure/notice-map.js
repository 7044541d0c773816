/* A notice's units on a map: one circle per building, its label as a tooltip (a text node, so
   names cannot inject markup). The points come from the page's "notice-points" JSON. */
(function () {
  "use strict";
  var source = document.getElementById("notice-points");
  if (!source || !window.L) return;
  var points = JSON.parse(source.textContent);
  var map = L.map("notice-map", { maxZoom: 19 });
  var layer = L.featureGroup(points.map(function (p) {
    return L.circleMarker([p.lat, p.lon], { radius: 6, color: "#b5442c" })
      .bindTooltip(document.createTextNode(p.label));
  })).addTo(map);
  map.fitBounds(layer.getBounds(), { padding: [30, 30], maxZoom: 17 });
})();
