// Key drivers: importance (share of R²) × performance against the items on the same scale
// (points above or below their scale's mean) with the four quadrants; comment aspects are
// diamonds, rated items circles; the tooltip gives the importance's 95% interval.
(function () {
  var node = document.getElementById("drivers-chart");
  var source = document.getElementById("drivers-data");
  if (!node || !source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var colors = { fix_first: "#b3261e", keep_up: "#0b6e4f", over_invested: "#d9822b", low_priority: "#7a869a" };
  var narrow = node.clientWidth < 640;
  // points near the right edge get their label on the left, so it is not cut off
  var xmax = Math.max.apply(null, data.points.map(function (p) { return p.value[0]; }).concat([0]));
  var reach = Math.max.apply(null, data.points.map(function (p) { return Math.abs(p.value[1]); }).concat([1]));
  var ylim = 5 * Math.ceil(reach * 1.1 / 5);  // whole ticks of 5 points, a little room
  var chart = echarts.init(node);
  chart.on("finished", function () { node.dataset.ready = "true"; });
  var corner = function (text, place) {
    var item = { type: "text", style: { text: text, fill: "#667", font: (narrow ? "11px" : "13px") + " sans-serif" } };
    for (var key in place) item[key] = place[key];
    return item;
  };
  var signed = function (v) { return (v > 0 ? "+" : "") + v; };
  chart.setOption({
    // a tooltip formatter's string is HTML: every label in it is escaped
    tooltip: { formatter: function (p) {
      var text = echarts.format.encodeHTML;
      var range = p.data.interval ? " (" + text(data.labels.interval) + " " + text(p.data.interval[0]) + "–" + text(p.data.interval[1]) + "%)" : "";
      return text(p.name) + (p.data.comment ? " (" + text(data.labels.comment) + ")" : "") +
        "<br>" + text(data.labels.x) + ": " + text(p.value[0]) + "%" + range + "<br>" +
        text(data.labels.performance) + ": " + text(p.data.performance) + "% (" + text(p.data.scale) + ")<br>" +
        text(data.labels.y) + ": " + text(signed(p.value[1]));
    } },
    grid: { left: 56, right: 24, top: 36, bottom: 56 },
    xAxis: { type: "value", name: data.labels.x, nameLocation: "middle", nameGap: 30, min: 0, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "value", name: data.labels.y, nameLocation: "middle", nameGap: 40, min: -ylim, max: ylim },
    graphic: [
      corner(data.labels.keep_up, { right: 30, top: 40 }),
      corner(data.labels.over_invested, { left: 62, top: 40 }),
      corner(data.labels.fix_first, { right: 30, bottom: 62 }),
      corner(data.labels.low_priority, { left: 62, bottom: 62 })
    ],
    series: [{
      type: "scatter", symbolSize: narrow ? 12 : 16,
      data: data.points.map(function (p) {
        return { name: p.name, value: p.value, comment: p.comment, interval: p.interval, performance: p.performance,
                 scale: p.scale, symbol: p.comment ? "diamond" : "circle",
                 symbolSize: (narrow ? 12 : 16) + (p.comment ? 4 : 0), itemStyle: { color: colors[p.quadrant] },
                 label: { position: p.value[0] > 0.7 * xmax ? "left" : "right" } };
      }),
      label: { show: true, position: "right", formatter: "{b}", fontSize: narrow ? 10 : 12 },
      labelLayout: { hideOverlap: true },
      markLine: { silent: true, symbol: "none", label: { show: false }, lineStyle: { type: "dashed", color: "#99a" },
        data: [{ xAxis: data.split[0] }, { yAxis: data.split[1] }] }
    }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
