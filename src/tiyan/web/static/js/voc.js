// The VOC review's bar chart: NPS points lost per theme, largest at the top.
(function () {
  var node = document.getElementById("impact-chart");
  var source = document.getElementById("impact-data");
  if (!node || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(node);
  chart.on("finished", function () { node.dataset.ready = "true"; });
  chart.setOption({
    color: ["#b3261e"],
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: { left: 8, right: 48, top: 16, bottom: 24, containLabel: true },
    xAxis: { type: "value", name: data.label, nameLocation: "middle", nameGap: 24 },
    yAxis: { type: "category", data: data.names },
    series: [{ name: data.label, type: "bar", data: data.lost, barWidth: "60%",
               label: { show: true, position: "right", formatter: function (p) { return p.value.toFixed(1); } } }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
