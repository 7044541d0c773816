/*
 * The map editor's text of coordinates, read and written in the browser exactly as
 * geo/geometry_text.py does on the server (tests/portal/test_base_map_editor.py runs both):
 * one "经度,纬度" per line, a blank line before each further polygon of a multipolygon.
 * Messages come from the server (already translated) with %(name)s placeholders.
 * Plain script: defines window.GeometryText. Coordinates are [lng, lat].
 */
(function () {
  "use strict";

  var NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
  var SEPARATORS = /[,，;；\s]+/;

  function message(messages, key, values) {
    return String(messages[key] || key).replace(/%\((\w+)\)s/g, function (all, name) {
      return values[name] == null ? all : String(values[name]);
    });
  }

  function Problem(text) { this.message = text; }

  // Numbered coordinates grouped by blank lines: [[{line, at: [lng, lat]}, ...], ...].
  function groups(text, messages) {
    var out = [[]];
    text.split(/\r\n|\r|\n/).forEach(function (raw, i) {
      var number = i + 1;
      var line = raw.trim();
      if (!line) {
        if (out[out.length - 1].length) out.push([]);
        return;
      }
      var values = line.split(SEPARATORS).filter(Boolean);
      if (values.length !== 2 || !NUMBER.test(values[0]) || !NUMBER.test(values[1])) {
        throw new Problem(message(messages, "number", { line: number, text: line }));
      }
      var lng = parseFloat(values[0]);
      var lat = parseFloat(values[1]);
      if (lng < -180 || lng > 180) {
        throw new Problem(message(messages, "lon", { line: number, value: values[0] }));
      }
      if (lat < -90 || lat > 90) {
        throw new Problem(message(messages, "lat", { line: number, value: values[1] }));
      }
      out[out.length - 1].push({ line: number, at: [lng, lat] });
    });
    return out.filter(function (g) { return g.length; });
  }

  function ring(group, messages) {
    var points = group.map(function (p) { return p.at; });
    var first = points[0];
    var last = points[points.length - 1];
    if (points.length > 1 && first[0] === last[0] && first[1] === last[1]) points.pop();
    var distinct = {};
    points.forEach(function (p) { distinct[p[0] + "," + p[1]] = true; });
    var count = Object.keys(distinct).length;
    if (count < 3) {
      throw new Problem(message(messages, "ring", { line: group[0].line, count: count }));
    }
    return points;
  }

  // Exterior rings of pasted GeoJSON, for drawing; `holes` says the map cannot edit it.
  function pastedGeoJson(text, messages) {
    var geometry;
    try { geometry = JSON.parse(text); } catch (e) { throw new Problem(message(messages, "pasted", {})); }
    if (geometry && geometry.type === "Feature") geometry = geometry.geometry;
    var type = geometry && geometry.type;
    var coords = geometry && geometry.coordinates;
    if (type === "Point") return { parts: [[coords]], holes: false };
    var polygons = type === "Polygon" ? [coords] : type === "MultiPolygon" ? coords : null;
    if (!polygons) return { parts: [], holes: true };
    return {
      parts: polygons.map(function (p) { return p[0].slice(0, -1); }),
      holes: polygons.some(function (p) { return p.length > 1; }),
    };
  }

  /* {parts, error, pasted}: parts are lists of [lng, lat] (a point is one part of one). */
  function parse(text, kind, messages) {
    text = (text || "").trim();
    if (!text) return { parts: [], error: null, pasted: false };
    try {
      if (/^[{\[]/.test(text)) {
        var geo = pastedGeoJson(text, messages);
        return { parts: geo.parts, error: null, pasted: true, holes: geo.holes };
      }
      if (/^[A-Za-z]/.test(text)) return { parts: [], error: null, pasted: true, holes: true };
      if (["POINT", "POLYGON", "MULTIPOLYGON"].indexOf(kind) < 0) {
        throw new Problem(message(messages, "lines", {}));
      }
      var found = groups(text, messages);
      if (kind === "POINT") {
        var points = [].concat.apply([], found);
        if (points.length !== 1) throw new Problem(message(messages, "point", { count: points.length }));
        return { parts: [[points[0].at]], error: null, pasted: false };
      }
      if (kind === "POLYGON") return { parts: [ring([].concat.apply([], found), messages)], error: null, pasted: false };
      return { parts: found.map(function (g) { return ring(g, messages); }), error: null, pasted: false };
    } catch (e) {
      if (e instanceof Problem) return { parts: null, error: e.message, pasted: false };
      throw e;
    }
  }

  /* The text for parts drawn on the map (numbers in their shortest exact form, as Python's). */
  function format(parts) {
    return parts
      .filter(function (part) { return part.length; })
      .map(function (part) {
        return part.map(function (p) { return String(p[0]) + "," + String(p[1]); }).join("\n");
      })
      .join("\n\n");
  }

  window.GeometryText = { parse: parse, format: format, message: message };
})();
