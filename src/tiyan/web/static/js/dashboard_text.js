// Text insights: mentions per aspect (rows) × sentiment label (columns) as a heat map.
(function () {
  var node = document.getElementById("aspect-heatmap");
  var source = document.getElementById("heatmap-data");
  if (!node || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  node.style.height = Math.max(260, 60 + 28 * data.aspects.length) + "px";
  var chart = echarts.init(node);
  chart.on("finished", function () { node.dataset.ready = "true"; });
  var narrow = node.clientWidth < 640;
  chart.setOption({
    tooltip: { position: "top", formatter: function (p) {
      var text = echarts.format.encodeHTML;  // the formatter's string is HTML
      return text(data.aspects[p.value[1]] + " · " + data.labels[p.value[0]] + ": " + p.value[2]);
    } },
    grid: { left: narrow ? 90 : 140, right: 16, top: 16, bottom: 70 },
    xAxis: { type: "category", data: data.labels, splitArea: { show: true } },
    yAxis: { type: "category", data: data.aspects, splitArea: { show: true },
             axisLabel: { width: narrow ? 80 : 130, overflow: "truncate" } },
    visualMap: { min: 0, max: Math.max(1, data.max), calculable: true, orient: "horizontal",
                 left: "center", bottom: 0, inRange: { color: ["#f4f7fb", "#f0b27a", "#b3261e"] } },
    series: [{ type: "heatmap", data: data.cells, label: { show: true },
               emphasis: { itemStyle: { shadowBlur: 6, shadowColor: "rgba(0,0,0,.3)" } } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
