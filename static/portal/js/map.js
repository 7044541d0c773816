/*
 * Every map on the site is drawn here with Leaflet, from a JSON description
 * (geo/map_base.py, portal/maps.py): the offered base maps and a switcher, a scale in metres,
 * our own labels, and the page's GeoJSON layers. `.map-canvas[data-map-config]` elements are
 * drawn on load and left in window[element id] for page scripts (map-home.js); other scripts
 * (notices, choosing a unit, the staff editor) call AnjuMap.create themselves.
 *
 * Our data are WGS84 and stay WGS84 on every base map: the tiles of a GCJ-02 base map (AMap)
 * are moved by the local GCJ-02 offset instead, so overlays, clicks and edits need no
 * conversion when a visitor switches. Names from data are always inserted as text.
 */
(function () {
  "use strict";
  if (!window.L) return;

  var STORAGE_KEY = "anju.basemap";
  var BELOW_POINT = 22; // px from an estate's point to its name: clear of its marker
  // Our labels: the zooms that show each kind, the order they claim room (lower first), and
  // whether the base map's own names make them redundant while its tiles load.
  var KINDS = {
    estate: { min: 14, max: 19, rank: 0, region: false },
    city: { min: 0, max: 8, rank: 1, region: true },
    district: { min: 8, max: 11, rank: 2, region: true },
    street: { min: 11, max: 13, rank: 3, region: true },
    community: { min: 13, max: 16, rank: 4, region: true },
    building: { min: 17, max: 19, rank: 5, region: false },
  };

  // Leaflet puts layer names and attributions in as HTML: ours go in as escaped text.
  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  // A GCJ-02 tile layer drawn on a WGS84 map: each tile is loaded for the GCJ-02 view and
  // placed where its centre really is. The offset changes by a few metres per kilometre, so
  // one shift per tile is right to within a pixel at every zoom.
  var GcjTileLayer = L.TileLayer.extend({
    _getTiledPixelBounds: function (center) {
      var p = window.ChinaCRS.wgs84ToGcj02(center.lng, center.lat);
      return L.TileLayer.prototype._getTiledPixelBounds.call(this, L.latLng(p[1], p[0]));
    },
    _getTilePos: function (coords) {
      var pos = L.TileLayer.prototype._getTilePos.call(this, coords);
      var map = this._map;
      var size = this.getTileSize();
      var centre = coords.scaleBy(size).add(size.divideBy(2));
      var shown = map.unproject(centre, coords.z);
      var real = window.ChinaCRS.gcj02ToWgs84(shown.lng, shown.lat);
      return pos.add(map.project(L.latLng(real[1], real[0]), coords.z).subtract(centre).round());
    },
  });

  // "No base map" still names where our boundaries come from.
  var AttributionOnly = L.Layer.extend({
    initialize: function (text) { this._text = text; },
    onAdd: function () {},
    onRemove: function () {},
    getAttribution: function () { return this._text; },
  });

  function overlaps(a, b) {
    return a[0] < b[2] && a[2] > b[0] && a[1] < b[3] && a[3] > b[1];
  }

  // Where a marker's icon is, in layer pixels, from its position (not its element's current
  // place, which a cluster's animation may still be moving).
  function markerBox(map, marker) {
    var el = marker._icon;
    if (!el || !marker.getLatLng) return null;
    var w = el.offsetWidth;
    var h = el.offsetHeight;
    var icon = (marker.options.icon && marker.options.icon.options) || {};
    var anchor = icon.iconAnchor ? L.point(icon.iconAnchor) : L.point(w / 2, h / 2);
    var p = map.latLngToLayerPoint(marker.getLatLng()).subtract(anchor);
    return [p.x, p.y, p.x + w, p.y + h];
  }

  function prepareLabels(labels) {
    return (labels || [])
      .filter(function (l) { return KINDS[l[1]]; })
      .map(function (l) { return { text: String(l[0]), kind: l[1], at: L.latLng(l[3], l[2]) }; });
  }

  function byRank(a, b) { return KINDS[a.kind].rank - KINDS[b.kind].rank; }

  // Estate names of a big city come by view from `url` (portal/map_labels.py), for a box
  // snapped outward to this grid (degrees) so that visitors ask for, and share, the same boxes.
  var LABEL_GRID = 0.02;

  function snappedBox(bounds) {
    function down(v) { return (Math.floor(v / LABEL_GRID) * LABEL_GRID).toFixed(2); }
    function up(v) { return (Math.ceil(v / LABEL_GRID) * LABEL_GRID).toFixed(2); }
    var sw = bounds.getSouthWest();
    var ne = bounds.getNorthEast();
    return [down(sw.lng), down(sw.lat), up(ne.lng), up(ne.lat)];
  }

  // Our names, placed after every move: in zoom range, in view, and clear of markers and of
  // every label placed before them (by rank), moved up or down a line if that finds room.
  var LabelLayer = L.Layer.extend({
    initialize: function (labels, url) {
      this._own = prepareLabels(labels);
      this._labels = this._own.slice().sort(byRank);
      this._url = url || null;
      this._fetched = null; // the box whose estate names we hold (all of them)
      this._heldKey = null; // the box last answered, complete or not
      this._request = null;
      this._regions = true;
    },
    // The estate names of the view, when they show at this zoom and are not held yet.
    _fetchFor: function (map) {
      if (!this._url || !window.fetch || Math.round(map.getZoom()) < KINDS.estate.min) return;
      var view = map.getBounds();
      if (this._fetched && this._fetched.contains(view)) return;
      var box = snappedBox(view.pad(0.25));
      var key = box.join(",");
      if (key === this._heldKey || (this._request && this._request.key === key)) return;
      if (this._request && this._request.abort) this._request.abort.abort();
      var abort = window.AbortController ? new AbortController() : null;
      var request = (this._request = { key: key, abort: abort });
      var self = this;
      window.fetch(this._url + "?bbox=" + encodeURIComponent(key), {
        headers: { Accept: "application/json" },
        signal: abort ? abort.signal : undefined,
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
        if (self._request !== request) return;
        self._request = null;
        if (!body) return;
        self._heldKey = key;
        self._fetched = body.complete
          ? L.latLngBounds([[+box[1], +box[0]], [+box[3], +box[2]]]) : null;
        self._labels = self._own.concat(prepareLabels(body.labels)).sort(byRank);
        if (self._map) self._draw();
      }).catch(function () {
        if (self._request === request) self._request = null;
      });
    },
    onAdd: function (map) {
      var pane = map.getPane("anjuLabels") || map.createPane("anjuLabels");
      pane.classList.add("anju-label-pane");
      this._el = L.DomUtil.create("div", "anju-labels leaflet-zoom-hide", pane);
      map.on("moveend resize", this._draw, this);
      map.on("layeradd layerremove", this._markersChanged, this);
      this._draw();
    },
    onRemove: function (map) {
      map.off("moveend resize", this._draw, this);
      map.off("layeradd layerremove", this._markersChanged, this);
      L.DomUtil.remove(this._el);
    },
    // Markers come and go in batches (clusters): place the names again once per frame.
    _markersChanged: function (e) {
      if (!(e.layer instanceof L.Marker) || this._pending) return;
      var self = this;
      this._pending = L.Util.requestAnimFrame(function () {
        self._pending = null;
        if (self._map) self._draw();
      });
    },
    showRegions: function (show) {
      if (this._regions === show) return;
      this._regions = show;
      if (this._map) this._draw();
    },
    _draw: function () {
      var map = this._map;
      this._fetchFor(map);
      var zoom = Math.round(map.getZoom());
      var view = map.getBounds().pad(0.2);
      var regions = this._regions;
      var el = this._el;
      el.textContent = "";
      var shown = this._labels.filter(function (l) {
        var kind = KINDS[l.kind];
        return zoom >= kind.min && zoom <= kind.max && (regions || !kind.region) &&
          view.contains(l.at);
      });
      var nodes = shown.map(function (l) {
        var node = L.DomUtil.create("div", "anju-label anju-label--" + l.kind, el);
        node.textContent = l.text;
        return node;
      });
      var sizes = nodes.map(function (n) { return [n.offsetWidth, n.offsetHeight]; }); // one layout
      // Only whole names: one cut by the map's edge reads as another name.
      var topLeft = map.containerPointToLayerPoint([0, 0]);
      var size = map.getSize();
      var inside = [topLeft.x, topLeft.y, topLeft.x + size.x, topLeft.y + size.y];
      var taken = [];
      map.eachLayer(function (layer) {
        var box = layer instanceof L.Marker && markerBox(map, layer);
        if (box) taken.push(box);
      });
      nodes.forEach(function (node, i) {
        var p = map.latLngToLayerPoint(shown[i].at);
        var w = sizes[i][0];
        var h = sizes[i][1];
        var x = Math.round(p.x - w / 2);
        var line = h + 6;
        var tops = shown[i].kind === "estate"
          ? [p.y + BELOW_POINT, p.y - BELOW_POINT - h]
          : [p.y - h / 2, p.y - h / 2 + line, p.y - h / 2 - line, p.y - h / 2 + 2 * line];
        for (var t = 0; t < tops.length; t++) {
          var y = Math.round(tops[t]);
          var box = [x - 4, y - 2, x + w + 4, y + h + 2];
          var whole = x >= inside[0] && y >= inside[1] && x + w <= inside[2] && y + h <= inside[3];
          if (whole && !taken.some(function (b) { return overlaps(box, b); })) {
            taken.push(box);
            L.DomUtil.setPosition(node, L.point(x, y));
            return;
          }
        }
        el.removeChild(node);
      });
    },
  });

  // A line of text shown over the map while the base map's tiles fail to load.
  var Notice = L.Control.extend({
    options: { position: "bottomleft" },
    onAdd: function () {
      var box = L.DomUtil.create("div", "anju-map-notice");
      box.setAttribute("role", "status");
      box.hidden = true;
      box.textContent = this.options.text || "";
      return box;
    },
    show: function (visible) { this.getContainer().hidden = !visible; },
  });

  function storedChoice() {
    try { return window.localStorage.getItem(STORAGE_KEY); } catch (e) { return null; }
  }
  function storeChoice(name) {
    try { window.localStorage.setItem(STORAGE_KEY, name); } catch (e) { /* private mode */ }
  }

  // The base maps, the switcher, and the switch to our own names while tiles fail.
  function addBaseMaps(map, basemaps, labels) {
    var specs = (basemaps && basemaps.maps) || [];
    var text = (basemaps && basemaps.text) || {};
    var container = map.getContainer();
    var notice = new Notice({ text: text.offline }).addTo(map);
    var state = { spec: null, failing: false };

    function refresh() {
      var plain = !state.spec || state.spec.tiles.length === 0;
      labels.showRegions(plain || state.failing);
      container.classList.toggle("anju-map--plain", plain || state.failing);
      container.dataset.basemap = state.spec ? state.spec.name : "";
      notice.show(!plain && state.failing);
    }

    function baseLayer(spec) {
      var group = L.layerGroup();
      group.spec = spec;
      spec.tiles.forEach(function (tiles, i) {
        var Layer = spec.crs === "gcj02" && window.ChinaCRS ? GcjTileLayer : L.TileLayer;
        var layer = new Layer(tiles.url, {
          subdomains: tiles.subdomains || "abc",
          maxNativeZoom: tiles.maxNativeZoom,
          maxZoom: map.getMaxZoom(),
          attribution: i === 0 ? escapeHtml(spec.attribution) : "",
        });
        var loaded = 0;
        layer.on("loading", function () { loaded = 0; });
        layer.on("tileload", function () {
          loaded += 1;
          if (state.spec === spec && state.failing) { state.failing = false; refresh(); }
        });
        layer.on("tileerror", function () {
          if (state.spec === spec && !loaded && !state.failing) { state.failing = true; refresh(); }
        });
        group.addLayer(layer);
      });
      if (spec.tiles.length === 0) group.addLayer(new AttributionOnly(escapeHtml(spec.attribution)));
      return group;
    }

    var layers = {};
    specs.forEach(function (spec) { layers[spec.name] = baseLayer(spec); });
    // The visitor's last choice, else the deployment's default, else the first offered.
    var first = specs.length ? specs[0].name : null;
    if (basemaps && layers[basemaps["default"]]) first = basemaps["default"];
    if (layers[storedChoice()]) first = storedChoice();
    if (first) {
      state.spec = layers[first].spec;
      layers[first].addTo(map);
    }
    if (specs.length > 1) {
      var entries = {};
      specs.forEach(function (spec) { entries[escapeHtml(spec.title)] = layers[spec.name]; });
      var control = L.control.layers(entries, null, { position: "topright" }).addTo(map);
      var toggle = control.getContainer().querySelector(".leaflet-control-layers-toggle");
      toggle.title = text["switch"] || "";
      toggle.setAttribute("aria-label", text["switch"] || "");
      map.on("baselayerchange", function (e) {
        state.spec = e.layer.spec;
        state.failing = false;
        storeChoice(state.spec.name);
        refresh();
      });
    }
    refresh();
  }

  function tooltipFor(layer, text) {
    if (text == null || text === "") return;
    layer.bindTooltip(document.createTextNode(String(text)), { sticky: true });
  }

  /* An estate's popup: its name, the lines given, and links to its page (when `url` is
     given), to applying and to the eligibility self-check. Built from DOM nodes. */
  function estatePopup(map, info) {
    var config = map.anjuConfig || {};
    var links = config.links || {};
    var text = config.text || {};
    var box = document.createElement("div");
    box.className = "estate-popup";
    var title = document.createElement("strong");
    title.textContent = info.name || "";
    box.appendChild(title);
    (info.lines || []).forEach(function (line) {
      if (line == null || line === "") return;
      var p = document.createElement("p");
      p.textContent = line;
      box.appendChild(p);
    });
    var nav = document.createElement("p");
    nav.className = "estate-popup-links";
    [[info.url, text.estate], [links.apply, text.apply], [links.selfCheck, text.selfCheck]]
      .forEach(function (pair) {
        if (!pair[0]) return;
        var a = document.createElement("a");
        a.href = pair[0];
        a.textContent = pair[1] || pair[0];
        nav.appendChild(a);
      });
    box.appendChild(nav);
    return box;
  }

  function geoJsonLayer(map, spec) {
    return L.geoJSON(spec.data, {
      style: function () { return spec.style; },
      // A point is drawn as a circle marker in the layer's style (a ring when fill is false).
      pointToLayer: function (feature, latlng) { return L.circleMarker(latlng, spec.style); },
      onEachFeature: function (feature, layer) {
        var p = feature.properties || {};
        if (spec.tooltip) tooltipFor(layer, p[spec.tooltip]);
        if (spec.popup === "estate") {
          layer.bindPopup(function () {
            return estatePopup(map, { name: p.name, url: p.url, lines: [p.address] });
          });
        }
      },
    });
  }

  /* Draws a map into `element` (an element or its id) from its description; returns it. */
  function create(element, config) {
    config = config || {};
    var map = L.map(element, {
      center: config.center || [0, 0],
      zoom: config.zoom == null ? 2 : config.zoom,
      maxZoom: config.maxZoom || 19,
    });
    map.anjuConfig = config;
    L.control.scale({ imperial: false }).addTo(map);
    var labels = new LabelLayer(config.labels, config.labelsUrl).addTo(map);
    addBaseMaps(map, config.basemaps, labels);
    (config.layers || []).forEach(function (spec) { geoJsonLayer(map, spec).addTo(map); });
    if (config.bounds) map.fitBounds(config.bounds);
    // A page's layout can still change after the map is drawn (fonts, a folded panel).
    if (window.ResizeObserver) {
      new ResizeObserver(function () { map.invalidateSize(); }).observe(map.getContainer());
    }
    return map;
  }

  window.AnjuMap = { create: create, estatePopup: estatePopup, kinds: KINDS };

  Array.prototype.forEach.call(
    document.querySelectorAll(".map-canvas[data-map-config]"),
    function (element) {
      var source = document.getElementById(element.dataset.mapConfig);
      if (source) window[element.id] = create(element, JSON.parse(source.textContent));
    }
  );
})();
