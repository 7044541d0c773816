/* The round's units on a map: one marker per building; its popup lists the units the
   household may choose, each a button of the page's own form (built with DOM nodes, never
   HTML strings, so names cannot inject markup). Base maps, switcher, scale and names are
   every map's (map.js, from the page's "choose-basemap" JSON). */
(function () {
  "use strict";
  if (!window.L || !window.AnjuMap) return;
  var points = JSON.parse(document.getElementById("choose-points").textContent);
  var base = JSON.parse(document.getElementById("choose-basemap").textContent);
  var form = document.getElementById("choose-form");
  var canChoose = !form.querySelector("button[disabled]");
  var map = AnjuMap.create("choose-map", base || {});

  function popup(point) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = point.label;
    title.lang = "zh-Hans"; // the estate and building: data, in the city's language
    box.appendChild(title);
    var list = document.createElement("ul");
    list.className = "unit-choices";
    point.units.forEach(function (unit) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "submit";
      button.name = "unit";
      button.value = unit.id;
      button.setAttribute("form", "choose-form");
      button.disabled = !canChoose;
      button.textContent = gettext("选这套");
      item.appendChild(button);
      item.appendChild(document.createTextNode(" " + unit.text));
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  var layer = L.featureGroup(points.map(function (point) {
    var marker = L.marker([point.lat, point.lon], {
      title: point.label,
      alt: interpolate(gettext("%(label)s（%(n)s 套）"), { label: point.label, n: point.units.length }, true),
      keyboard: true,
    });
    marker.bindTooltip(document.createTextNode(
      interpolate(gettext("%(label)s · %(n)s 套"), { label: point.label, n: point.units.length }, true)
    ));
    marker.bindPopup(function () { return popup(point); }, { maxWidth: 300 });
    return marker;
  })).addTo(map);
  map.fitBounds(layer.getBounds(), { padding: [30, 30], maxZoom: 17 });
})();
