/*
 * The staff map editor (geo/widgets.py): the field's geometry drawn on the site's map
 * (AnjuMap), kept in step with the field's text of coordinates (GeometryText).
 * A click sets the position, or adds the next corner of the polygon being drawn; the position
 * and the corners can be dragged, a right-click removes a corner; buttons undo the last
 * corner, start another polygon and clear. Typing redraws the map at once, and a mistake is
 * named under the text (with its line) until it is corrected. Started from the data
 * attributes of its script element (no inline script under the CSP).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.L || !window.AnjuMap || !window.GeometryText) return;
  var editor = document.getElementById(script.dataset.editor);
  var settings = JSON.parse(document.getElementById(script.dataset.config).textContent);
  var messages = settings.messages || {};
  var kind = editor.dataset.geomType;
  var text = editor.querySelector(".geom-editor-text");
  var problem = editor.querySelector(".geom-editor-problem");
  var mapElement = editor.querySelector(".geom-editor-map");
  var tools = editor.querySelector(".geom-editor-tools");
  var writable = !text.disabled && !text.readOnly;
  var typed = ["POINT", "POLYGON", "MULTIPOLYGON"].indexOf(kind) >= 0;

  mapElement.hidden = false;
  tools.hidden = !(writable && typed);
  var map = AnjuMap.create(mapElement, settings.map);
  var drawn = L.featureGroup().addTo(map);
  var parts = []; // polygons as lists of [lng, lat]; a position is one part of one point
  var editable = false;

  function round(value) { return Math.round(value * 1e7) / 1e7; } // about a centimetre
  function toLatLng(p) { return L.latLng(p[1], p[0]); }
  function fromLatLng(latlng) {
    var at = latlng.wrap();
    return [round(at.lng), round(at.lat)];
  }

  function showProblem(message) {
    problem.textContent = message || "";
    problem.hidden = !message;
    text.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function write() {
    text.value = GeometryText.format(parts);
    showProblem(null);
  }

  function vertex(part, index, shape) {
    var marker = L.marker(toLatLng(part[index]), {
      draggable: true,
      keyboard: false,
      icon: L.divIcon({ className: "geom-vertex", iconSize: [14, 14] }),
    });
    marker.on("drag", function () {
      part[index] = fromLatLng(marker.getLatLng());
      shape.setLatLngs(part.map(toLatLng));
    });
    marker.on("dragend", function () { write(); draw(); });
    marker.on("contextmenu", function () {
      part.splice(index, 1);
      parts = parts.filter(function (p) { return p.length; });
      write();
      draw();
    });
    return marker;
  }

  function draw() {
    drawn.clearLayers();
    if (kind === "POINT") {
      if (!parts.length) return;
      var marker = L.marker(toLatLng(parts[0][0]), { draggable: editable, keyboard: false });
      marker.on("dragend", function () {
        parts = [[fromLatLng(marker.getLatLng())]];
        write();
      });
      drawn.addLayer(marker);
      return;
    }
    parts.forEach(function (part) {
      var style = { color: "#b5442c", weight: 2, fillOpacity: 0.15 };
      var shape = part.length >= 3 ? L.polygon(part.map(toLatLng), style)
        : L.polyline(part.map(toLatLng), style);
      drawn.addLayer(shape);
      if (!editable) return;
      part.forEach(function (p, i) { drawn.addLayer(vertex(part, i, shape)); });
    });
  }

  // Reads the text; a mistake keeps the last good drawing and is named under the text.
  function read() {
    var result = GeometryText.parse(text.value, kind, messages);
    showProblem(result.error);
    if (result.error) return false;
    parts = result.parts;
    editable = writable && typed && !result.holes;
    draw();
    return true;
  }

  function fit() {
    if (!parts.length || !parts[0].length) return;
    if (kind === "POINT") map.setView(toLatLng(parts[0][0]), Math.max(map.getZoom(), 16));
    else map.fitBounds(drawn.getBounds(), { padding: [30, 30], maxZoom: 18 });
  }

  map.on("click", function (e) {
    if (!editable) return;
    var point = fromLatLng(e.latlng);
    if (kind === "POINT") {
      parts = [[point]];
    } else {
      if (!parts.length) parts.push([]);
      parts[parts.length - 1].push(point);
    }
    write();
    draw();
  });

  tools.addEventListener("click", function (e) {
    var action = e.target.closest("button[data-action]");
    if (!action) return;
    var act = action.dataset.action;
    if (act === "clear") parts = [];
    if (act === "part" && parts.length && parts[parts.length - 1].length) parts.push([]);
    if (act === "undo") {
      var last = parts[parts.length - 1];
      if (last) last.pop();
      parts = parts.filter(function (p) { return p.length; });
    }
    editable = writable && typed;
    write();
    draw();
  });

  text.addEventListener("input", read);
  text.addEventListener("change", function () { if (read()) fit(); });

  read();
  fit();
})();
