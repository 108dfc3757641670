// The trend on the home page and the overview: responses (bars, lower third), NPS and CSAT (lines).
(function () {
  var node = document.getElementById("trend-chart");
  var source = document.getElementById("trend-data");
  if (!node || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(node);
  var padded = function (step, low, high) {
    return {
      min: function (v) { return Math.max(low, Math.floor((v.min - step) / step) * step); },
      max: function (v) { return Math.min(high, Math.ceil((v.max + step) / step) * step); }
    };
  };
  var nps = padded(10, -100, 100), csat = padded(0.5, 1, 5);
  // counts over the bars only where each bar has room for one; points only where they can be told apart
  var roomy = node.clientWidth / Math.max(data.months.length, 1) > 36;
  var dots = data.months.length <= 60;
  chart.on("finished", function () { node.dataset.ready = "true"; });
  chart.setOption({
    color: ["#c9d3e0", "#0b6e4f", "#d9822b"],
    tooltip: { trigger: "axis" },
    legend: { data: [data.labels.responses, data.labels.nps, data.labels.csat] },
    grid: { left: 48, right: 56, top: 48, bottom: 32 },
    xAxis: { type: "category", data: data.months },
    yAxis: [
      { type: "value", name: "NPS", min: nps.min, max: nps.max },
      { type: "value", name: "CSAT", min: csat.min, max: csat.max, splitLine: { show: false } },
      { type: "value", show: false, min: 0, max: function (v) { return v.max * 3; } }
    ],
    series: [
      { name: data.labels.responses, type: "bar", yAxisIndex: 2, data: data.responses,
        barWidth: "45%", label: { show: roomy, position: "top", color: "#5b6475", fontSize: 11 } },
      { name: data.labels.nps, type: "line", yAxisIndex: 0, data: data.nps, smooth: true,
        symbolSize: 7, showSymbol: dots, lineStyle: { width: dots ? 3 : 1.5 } },
      { name: data.labels.csat, type: "line", yAxisIndex: 1, data: data.csat, smooth: true,
        symbolSize: 7, showSymbol: dots, lineStyle: { width: dots ? 3 : 1.5 } }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
