// Journey view: share of top-box answers per step (line) and mean comment sentiment (bars).
(function () {
  var node = document.getElementById("journey-chart");
  var source = document.getElementById("journey-data");
  if (!node || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(node);
  chart.on("finished", function () { node.dataset.ready = "true"; });
  chart.setOption({
    color: ["#0b6e4f", "#d9822b"],
    tooltip: { trigger: "axis" },
    legend: { data: [data.labels.score, data.labels.sentiment] },
    grid: { left: 48, right: 48, top: 48, bottom: 48 },
    xAxis: { type: "category", data: data.steps, axisLabel: { interval: 0, rotate: node.clientWidth < 640 ? 30 : 0 } },
    yAxis: [{ type: "value", min: 0, max: 100, name: "%" },
            { type: "value", min: -1, max: 1, splitLine: { show: false } }],
    series: [
      { name: data.labels.score, type: "line", data: data.scores, symbolSize: 9, lineStyle: { width: 3 } },
      { name: data.labels.sentiment, type: "bar", yAxisIndex: 1, data: data.sentiment, barWidth: "30%" }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
