/* 统计分析: draws each dashboard chart with ECharts from the page's data island
   (<script id="stat-charts" type="application/json">), built from the same rows as the table
   beside it. Nothing is fetched: the county outlines of the map come in the island too.
   Tooltips are drawn on the canvas (renderMode "richText"): ECharts' HTML tooltips carry
   inline style attributes, which the Content-Security-Policy forbids. */
(function () {
  "use strict";
  var island = document.getElementById("stat-charts");
  if (!island || !window.echarts) return;
  var charts = JSON.parse(island.textContent);

  function axisChart(spec) {
    var stacked = spec.kind === "stacked";
    var line = spec.kind === "line";
    return {
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 40, bottom: 60, containLabel: true },
      xAxis: { type: "category", data: spec.categories, axisLabel: { interval: 0, rotate: spec.categories.length > 6 ? 30 : 0 } },
      yAxis: { type: "value" },
      series: spec.series.map(function (s) {
        return { name: s.name, type: line ? "line" : "bar", stack: stacked ? "all" : undefined, data: s.data, connectNulls: false };
      })
    };
  }

  function pieChart(spec) {
    var s = spec.series[0];
    return {
      tooltip: { trigger: "item", renderMode: "richText" },
      legend: { bottom: 0 },
      series: [{
        name: s.name, type: "pie", radius: ["35%", "65%"],
        data: spec.categories.map(function (c, i) { return { name: c, value: s.data[i] }; })
      }]
    };
  }

  function mapChart(spec) {
    var name = "stat-" + spec.key;
    echarts.registerMap(name, spec.geojson);
    var s = spec.series[0];
    var values = spec.categories.map(function (c, i) { return { name: c, value: s.data[i] }; });
    var top = Math.max.apply(null, values.map(function (v) { return v.value || 0; }).concat([1]));
    return {
      tooltip: { trigger: "item", renderMode: "richText", formatter: function (p) { return p.name + "：" + (Array.isArray(p.value) ? p.value[2] : p.value) + "%"; } },
      visualMap: { min: 0, max: top, text: [s.name, ""], calculable: true, left: 8, bottom: 8, inRange: { color: ["#e8f3ea", "#f6c76b", "#c0392b"] } },
      geo: { map: name, roam: true, label: { show: true } },
      series: [
        { name: s.name, type: "map", geoIndex: 0, data: values },
        { name: s.name, type: "scatter", coordinateSystem: "geo", symbolSize: 7, itemStyle: { color: "#1d4f91" }, data: spec.points || [] }
      ]
    };
  }

  charts.forEach(function (spec) {
    var el = document.getElementById("chart-" + spec.key);
    if (!el) return;
    if (spec.kind === "map") el.classList.add("stat-chart--map");
    var chart = echarts.init(el);
    chart.setOption(spec.kind === "pie" ? pieChart(spec) : spec.kind === "map" ? mapChart(spec) : axisChart(spec));
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
