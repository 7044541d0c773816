/*
 * WGS84 <-> GCJ-02 ("Mars" coordinates used by Gaode/AMap and Tencent tiles), for the browser.
 *
 * We store WGS84 and our maps stay WGS84; map.js places each tile of a GCJ-02 base map where
 * its GCJ-02 coordinates really are (gcj02ToWgs84) and loads the tiles the view needs
 * (wgs84ToGcj02), so our layers need no shift. Mirrors geo/crs.py (tested
 * against it in tests/geo/test_crs.py). Plain script, no modules: defines window.ChinaCRS.
 * All functions take and return [lng, lat] in degrees.
 */
(function () {
  "use strict";

  // Krasovsky 1940 ellipsoid, on which the GCJ-02 offset is defined.
  var A = 6378245.0;
  var EE = 0.00669342162296594323;
  var PI = Math.PI;
  // Stop the inverse once the forward transform is within this many degrees (~1 cm) of the input.
  var TOLERANCE = 1e-7;
  var MAX_STEPS = 10;

  // Rough box where GCJ-02 applies; outside it GCJ-02 equals WGS84.
  function outOfChina(lng, lat) {
    return !(lng >= 72.004 && lng <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }

  // The published offset fields, in metre-like units, at (x, y) from (105E, 35N).
  function offsetLat(x, y) {
    var ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    ret += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    ret += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    ret += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y / 30.0 * PI)) * 2.0 / 3.0;
    return ret;
  }

  function offsetLng(x, y) {
    var ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    ret += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    ret += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    ret += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    return ret;
  }

  function wgs84ToGcj02(lng, lat) {
    if (outOfChina(lng, lat)) {
      return [lng, lat];
    }
    var dLat = offsetLat(lng - 105.0, lat - 35.0);
    var dLng = offsetLng(lng - 105.0, lat - 35.0);
    var radLat = lat / 180.0 * PI;
    var sinLat = Math.sin(radLat);
    var magic = 1.0 - EE * sinLat * sinLat;
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrtMagic) * PI);
    dLng = (dLng * 180.0) / (A / sqrtMagic * Math.cos(radLat) * PI);
    return [lng + dLng, lat + dLat];
  }

  // Iterative inverse: the one-step inverse is metres off, a few fixed-point steps are exact.
  function gcj02ToWgs84(lng, lat) {
    if (outOfChina(lng, lat)) {
      return [lng, lat];
    }
    var x = lng;
    var y = lat;
    for (var i = 0; i < MAX_STEPS; i++) {
      var forward = wgs84ToGcj02(x, y);
      var dx = forward[0] - lng;
      var dy = forward[1] - lat;
      x -= dx;
      y -= dy;
      if (Math.abs(dx) < TOLERANCE && Math.abs(dy) < TOLERANCE) {
        break;
      }
    }
    return [x, y];
  }

  window.ChinaCRS = {
    wgs84ToGcj02: wgs84ToGcj02,
    gcj02ToWgs84: gcj02ToWgs84,
    outOfChina: outOfChina,
  };
})();
