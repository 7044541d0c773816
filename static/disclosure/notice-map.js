/* A notice's units on a map: one circle per building, its label as a tooltip (a text node, so
   names cannot inject markup), over the same base maps and names as every map (map.js). The
   points come from the page's "notice-points" JSON, the rest from "notice-map-base". */
(function () {
  "use strict";
  var source = document.getElementById("notice-points");
  if (!source || !window.L || !window.AnjuMap) return;
  var points = JSON.parse(source.textContent);
  var base = document.getElementById("notice-map-base");
  var map = AnjuMap.create("notice-map", base ? JSON.parse(base.textContent) : {});
  var layer = L.featureGroup(points.map(function (p) {
    return L.circleMarker([p.lat, p.lon], { radius: 6, color: "#b5442c" })
      .bindTooltip(document.createTextNode(p.label));
  })).addTo(map);
  map.fitBounds(layer.getBounds(), { padding: [30, 30], maxZoom: 17 });
})();
