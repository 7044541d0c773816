/*
 * The home map: estates with matching vacant units as clustered markers, kept in step with the
 * filter form, the list beside the map and the URL (a link reproduces the view; Back works).
 * Clicking the map (or "use my position") looks the point up. Without this script the form
 * still works: it submits to the server, which renders the same list.
 */
(function () {
  "use strict";

  var root = document.getElementById("map-home");
  if (!root || !window.L || !window.AnjuMap) return;
  var map = window[root.dataset.mapVar];
  var form = document.getElementById("vacancy-form");
  var list = document.getElementById("estate-list-body");
  var count = document.getElementById("result-count");
  var empty = document.getElementById("empty-state");
  var table = document.getElementById("estate-table");
  var unitsLink = document.getElementById("units-link");
  var panel = document.getElementById("locate-panel");
  // Our data and the map are WGS84 on every base map (map.js moves GCJ-02 tiles instead).
  function toMap(lng, lat) { return L.latLng(lat, lng); }

  function esc(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  var cluster = L.markerClusterGroup({
    showCoverageOnHover: false,
    iconCreateFunction: function (c) {
      var vacant = c.getAllChildMarkers().reduce(function (sum, m) {
        return sum + (m.options.vacant || 0);
      }, 0);
      return L.divIcon({
        html: '<div class="estate-cluster">' + vacant + "</div>",
        className: "estate-marker-wrap",
        iconSize: L.point(44, 44),
      });
    },
  });
  var tiled = root.dataset.mode === "tiles" && L.vectorGrid;
  var tiles = null;
  if (tiled) {
    // Too many estates for markers: the server draws them as vector tiles (one query each),
    // aggregated per estate below zoom 15 and as single units above.
    tiles = L.vectorGrid.protobuf(tileUrl(location.search.slice(1)), {
      rendererFactory: L.svg.tile,
      interactive: true,
      maxNativeZoom: 19,
      vectorTileLayerStyles: {
        estates: function (p) {
          return {
            radius: Math.min(16, 4 + Math.sqrt(p.vacant_units || 0) * 2),
            fill: true, fillColor: "#b5442c", fillOpacity: 0.85, color: "#fff", weight: 1.5,
          };
        },
        "vacant-units": { radius: 5, fill: true, fillColor: "#1f5fa8", fillOpacity: 0.9, color: "#fff", weight: 1 },
      },
    });
    tiles.on("click", function (e) {
      var p = e.layer.properties;
      var info = p.vacant_units != null
        ? { name: p.name, url: "/estates/" + encodeURIComponent(p.ref) + "/",
            lines: [p.address, interpolate(gettext("符合条件的空置房源 %(n)s 套"), { n: p.vacant_units }, true)] }
        : { name: p.estate_name, url: "/estates/" + encodeURIComponent(p.estate_id) + "/",
            lines: [p.building_number + " " + p.number,
                    interpolate(gettext("%(rooms)s室 · %(area)s ㎡ · 月租 %(rent)s 元"),
                                { rooms: p.rooms, area: p.area, rent: p.monthly_rent }, true)] };
      L.popup().setLatLng(e.latlng).setContent(AnjuMap.estatePopup(map, info)).openOn(map);
    });
    tiles.addTo(map);
  } else {
    map.addLayer(cluster);
  }

  function tileUrl(query) {
    return "/tiles/vacant-units/{z}/{x}/{y}.pbf" + (query ? "?" + query : "");
  }

  function draw(features) {
    cluster.clearLayers();
    var markers = features.map(function (f) {
      var p = f.properties;
      var c = f.geometry.coordinates;
      var marker = L.marker(toMap(c[0], c[1]), {
        vacant: p.vacant_units,
        title: interpolate(gettext("%(name)s：空置 %(n)s 套"), { name: p.name, n: p.vacant_units }, true),
        alt: p.name,
        icon: L.divIcon({
          html: '<div class="estate-marker estate-marker--vacant">' + p.vacant_units + "</div>",
          className: "estate-marker-wrap",
          iconSize: [34, 34],
          iconAnchor: [17, 17],
        }),
      });
      marker.bindPopup(function () {
        return AnjuMap.estatePopup(map, {
          name: p.name,
          url: p.url,
          lines: [
            p.address,
            p.distance_m != null
              ? interpolate(gettext("符合条件的空置房源 %(n)s 套，距离 %(m)s 米"),
                            { n: p.vacant_units, m: p.distance_m }, true)
              : interpolate(gettext("符合条件的空置房源 %(n)s 套"), { n: p.vacant_units }, true),
          ],
        });
      });
      return marker;
    });
    cluster.addLayers(markers);
    // A narrowed search brings its estates into view; the whole city stays framed otherwise.
    if (markers.length && (location.search || "").length > 1) {
      map.fitBounds(cluster.getBounds(), { padding: [30, 30], maxZoom: 15 });
    }
  }

  function renderList(features) {
    var total = 0;
    list.innerHTML = features
      .map(function (f) {
        var p = f.properties;
        total += p.vacant_units;
        return (
          '<tr><td lang="zh-Hans"><a href="' + esc(p.url) + '">' + esc(p.name) + '</a></td><td lang="zh-Hans">' +
          esc(p.district) + '</td><td lang="zh-Hans">' + esc(p.address) + '</td><td class="num">' +
          p.vacant_units + "</td>" +
          '<td class="num">' + (p.distance_m != null ? (p.distance_m / 1000).toFixed(1) : "—") +
          "</td></tr>"
        );
      })
      .join("");
    count.textContent = interpolate(gettext("符合条件的空置房源 %(vacant)s 套，分布在 %(count)s 个项目。"),
                                    { vacant: total, count: features.length }, true);
    empty.hidden = features.length > 0;
    table.hidden = features.length === 0;
  }

  function params() {
    var data = new FormData(form);
    var out = new URLSearchParams();
    data.forEach(function (value, key) {
      if (value !== "") out.append(key, value);
    });
    return out;
  }

  function showErrors(errors) {
    form.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    Object.keys(errors || {}).forEach(function (name) {
      var field = form.elements[name];
      var anchor = field && (field.length && !field.tagName ? field[0] : field);
      if (!anchor) return;
      var p = document.createElement("p");
      p.className = "field-error js";
      p.setAttribute("role", "alert");
      p.textContent = errors[name].join(" ");
      anchor.closest(".field").appendChild(p);
    });
  }

  function fetchAll(url, acc) {
    return fetch(url, { headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw body;
        var features = acc.concat(body.features || []);
        return body.next ? fetchAll(body.next, features) : features;
      });
    });
  }

  var latest = 0; // only the newest request may draw: older answers can arrive last
  function update(push) {
    var ticket = ++latest;
    var q = params();
    var query = q.toString();
    if (push) history.pushState({ q: query }, "", query ? "/?" + query : "/");
    unitsLink.href = "/units/" + (query ? "?" + query : "");
    root.setAttribute("aria-busy", "true");
    if (tiled) {
      tiles.setUrl(tileUrl(query));
      // The list shows the first page; the count comes with it.
      return fetch("/api/estates/?page_size=200" + (query ? "&" + query : ""))
        .then(function (r) { return r.json().then(function (b) { if (!r.ok) throw b; return b; }); })
        .then(function (body) {
          if (ticket !== latest) return;
          showErrors({});
          renderList(body.features);
          count.textContent = interpolate(
            gettext("符合条件的项目 %(count)s 个（地图显示全部，列表列出前 %(listed)s 个）。"),
            { count: body.count, listed: body.features.length }, true);
        })
        .catch(function (errors) { if (ticket === latest) showErrors(errors && typeof errors === "object" ? errors : {}); })
        .finally(function () { if (ticket === latest) root.removeAttribute("aria-busy"); });
    }
    return fetchAll("/api/estates/?page_size=1000" + (query ? "&" + query : ""), [])
      .then(function (features) {
        if (ticket !== latest) return;
        showErrors({});
        draw(features);
        renderList(features);
      })
      .catch(function (errors) {
        if (ticket !== latest) return;
        showErrors(errors && typeof errors === "object" ? errors : {});
        cluster.clearLayers();
        renderList([]);
      })
      .finally(function () {
        if (ticket === latest) root.removeAttribute("aria-busy");
      });
  }

  function setForm(query) {
    var q = new URLSearchParams(query);
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name) return;
      var values = q.getAll(el.name).join(",").split(",");
      if (el.type === "checkbox") el.checked = values.indexOf(el.value) >= 0;
      else if (el.type !== "submit") el.value = q.get(el.name) || "";
    });
  }

  // Streets are grouped by county: once a county is chosen, only its streets are offered.
  var district = form.elements.district;
  var street = form.elements.street;
  function limitStreets() {
    var county = district.selectedIndex > 0 ? district.options[district.selectedIndex].text : "";
    Array.prototype.forEach.call(street.querySelectorAll("optgroup"), function (group) {
      var hide = county !== "" && group.label !== county;
      group.hidden = hide;
      group.disabled = hide;
    });
    var chosen = street.options[street.selectedIndex];
    if (chosen && chosen.parentNode.disabled) street.value = "";
  }
  if (district && street) {
    district.addEventListener("change", limitStreets);
    limitStreets();
  }

  var timer;
  form.addEventListener("change", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { update(true); }, 250);
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    update(true);
  });
  window.addEventListener("popstate", function () {
    setForm(location.search);
    if (district && street) limitStreets();
    update(false);
  });

  // --- location lookup ---------------------------------------------------------------------
  var pin = null;
  function lookUp(lng, lat) {
    if (pin) map.removeLayer(pin);
    pin = L.circleMarker(toMap(lng, lat), { radius: 8, color: "#1f5fa8" }).addTo(map);
    fetch("/api/locate/?lon=" + lng.toFixed(6) + "&lat=" + lat.toFixed(6))
      .then(function (r) {
        if (!r.ok) throw new Error("locate failed");
        return r.json();
      })
      .then(function (loc) {
        var place = ["district", "street", "community"]
          .map(function (k) { return loc.regions[k] && loc.regions[k].name; })
          .filter(Boolean)
          .join(" ");
        var nearest = loc.nearest
          .map(function (n) {
            return '<li><a href="' + esc(n.url) + '" lang="zh-Hans">' + esc(n.name) + "</a>" +
              esc(interpolate(gettext("：空置 %(n)s 套，约 %(m)s 米"), { n: n.vacant_units, m: n.distance_m }, true)) +
              "</li>";
          })
          .join("");
        panel.innerHTML =
          "<h2>" + esc(gettext("所选位置")) + "</h2><p>" + lng.toFixed(5) + ", " + lat.toFixed(5) + esc(gettext("：")) +
          (place ? '<span lang="zh-Hans">' + esc(place) + "</span>" : esc(gettext("不在本市行政区域内"))) + "</p>" +
          (nearest ? "<p>" + esc(gettext("附近有空置房源的项目：")) + "</p><ol>" + nearest + "</ol>" : "") +
          '<button type="button" id="near-filter">' + esc(gettext("只看此处 3 公里内的房源")) + "</button>";
        panel.hidden = false;
        document.getElementById("near-filter").addEventListener("click", function () {
          form.elements.near.value = lng.toFixed(6) + "," + lat.toFixed(6);
          if (!form.elements.within_km.value) form.elements.within_km.value = "3";
          update(true);
        });
        panel.focus();
      })
      .catch(function () {
        panel.hidden = false;
        panel.textContent = gettext("无法查询该位置，请稍后再试或输入经纬度。");
      });
  }
  map.on("click", function (e) {
    var p = e.latlng.wrap(); // a click on a repeated world copy is the same place
    lookUp(p.lng, p.lat);
  });
  var mine = document.getElementById("my-position");
  if (mine && navigator.geolocation) {
    mine.hidden = false;
    mine.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(
        function (pos) { lookUp(pos.coords.longitude, pos.coords.latitude); },
        function () { panel.hidden = false; panel.textContent = gettext("无法获取当前位置，请在地图上点选或输入经纬度。"); }
      );
    });
  }

  // On a phone the filters start folded unless some are set, so the map is in view.
  var details = form.querySelector("details");
  if (details && window.matchMedia("(max-width: 899px)").matches && !location.search) {
    details.open = false;
  }

  var data = document.getElementById("estates-data");
  if (data && !tiled) draw(JSON.parse(data.textContent).features);
})();
