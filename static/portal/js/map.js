/*
 * Draws each map a page describes (portal/maps.py): a `.map-canvas[data-map-config]` element
 * names the `application/json` element holding its base map, view and GeoJSON layers. The
 * Leaflet map is left in window[element id] for page scripts that draw on it (map-home.js).
 * Tooltips are text nodes, so names in the data can never become markup.
 */
(function () {
  "use strict";
  if (!window.L) return;

  function tooltipFor(layer, text) {
    if (text == null || text === "") return;
    layer.bindTooltip(document.createTextNode(String(text)), { sticky: true });
  }

  function geoJsonLayer(spec) {
    return L.geoJSON(spec.data, {
      style: function () { return spec.style; },
      // A point is drawn as a circle marker in the layer's style (a ring when fill is false).
      pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, spec.style); },
      onEachFeature: function (feature, layer) {
        if (spec.tooltip) tooltipFor(layer, (feature.properties || {})[spec.tooltip]);
      },
    });
  }

  function draw(element) {
    var source = document.getElementById(element.dataset.mapConfig);
    if (!source) return;
    var config = JSON.parse(source.textContent);
    var map = L.map(element, {
      center: config.center,
      zoom: config.zoom,
      maxZoom: config.maxZoom,
      zoomControl: true,
      preferCanvas: false,
    });
    L.control.scale().addTo(map);
    if (config.tiles) {
      L.tileLayer(config.tiles.url, {
        attribution: config.tiles.attribution,
        subdomains: config.tiles.subdomains,
        maxZoom: config.tiles.maxZoom,
        maxNativeZoom: config.tiles.maxZoom,
      }).addTo(map);
    }
    (config.layers || []).forEach(function (spec) { geoJsonLayer(spec).addTo(map); });
    if (config.bounds) map.fitBounds(config.bounds);
    if (config.attribution) map.attributionControl.addAttribution(config.attribution);
    window[element.id] = map;
  }

  Array.prototype.forEach.call(document.querySelectorAll(".map-canvas[data-map-config]"), draw);
})();
