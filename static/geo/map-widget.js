/*
 * Starts one OpenLayers geometry widget (Django's MapWidget, gis/js/OLMapWidget.js) from the
 * data attributes of this script element (geo/templates/geo/widgets/map.html), as Django's
 * inline script would, so the page needs no inline script. The widget is left in
 * window[data-module] (e.g. window.geodjango_boundary) as Django leaves it.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  // OLMapWidget.js declares MapWidget as a class: a global binding, not a window property.
  if (!script || !window.ol || typeof MapWidget === "undefined") return;
  var data = script.dataset;
  window[data.module] = new MapWidget({
    // No remote base map: an empty vector layer under the features being drawn.
    base_layer: new ol.layer.Vector({ source: new ol.source.Vector() }),
    geom_name: data.geomName,
    id: data.id,
    map_id: data.id + "_map",
    map_srid: Number(data.mapSrid),
    name: data.name,
    default_lon: Number(data.defaultLon),
    default_lat: Number(data.defaultLat),
    default_zoom: Number(data.defaultZoom),
  });
})();
