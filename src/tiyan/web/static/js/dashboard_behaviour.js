// Behaviour: retention by cohort, cohorts (rows, oldest on top) × months after (columns).
(function () {
  var node = document.getElementById("cohort-heatmap");
  var source = document.getElementById("cohort-data");
  if (!node || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  node.style.height = Math.max(260, 90 + 26 * data.cohorts.length) + "px";
  var chart = echarts.init(node);
  chart.on("finished", function () { node.dataset.ready = "true"; });
  var narrow = node.clientWidth < 640;
  chart.setOption({
    tooltip: { position: "top", formatter: function (p) {
      var text = echarts.format.encodeHTML;  // the formatter's string is HTML
      return text(data.labels.cohort + " " + data.cohorts[p.value[1]] + " · " +
        data.offsets[p.value[0]] + ": " + p.value[2] + "%");
    } },
    grid: { left: narrow ? 92 : 120, right: 12, top: 12, bottom: 72 },
    xAxis: { type: "category", data: data.offsets, splitArea: { show: true },
             axisLabel: { interval: narrow ? "auto" : 0, rotate: narrow ? 45 : 0 } },
    yAxis: { type: "category", data: data.cohorts, inverse: true, splitArea: { show: true } },
    visualMap: { min: 0, max: Math.max(1, data.max), calculable: true, orient: "horizontal",
                 left: "center", bottom: 0, text: [data.labels.share, ""],
                 inRange: { color: ["#f4f7fb", "#7fc8a9", "#0b6e4f"] } },
    series: [{ type: "heatmap", data: data.cells,
               label: { show: !narrow, formatter: function (p) { return Math.round(p.value[2]); } },
               emphasis: { itemStyle: { shadowBlur: 6, shadowColor: "rgba(0,0,0,.3)" } } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
