// The audit page: draws the charts from the report's JSON (#report-data)
// with the inlined Chart.js, then writes into #render-check what it drew,
// read back from the charts themselves, for automated checks:
//   {"charts": [{"id", "x_labels": [...],
//                "datasets": [{"label", "points", "visible", "max_gap", "min_gap"}]}],
//    "fills_expected": N, "fills_marked": N, "bars": N, "errors": [...],
//    "cards": [{"text", "scroll_width", "client_width"}]}
// "visible" counts the points that landed inside the plot area.
// Inlined into the page's script element: it must never contain a closing tag for it.
(function () {
  'use strict';
  var errors = window.blotterErrors || [];
  var charts = [];
  var expectedFills = 0;

  var colors = {
    price: '#2563eb',
    buy: '#16a34a',
    sell: '#dc2626',
    equity: '#7c3aed',
    open: '#94a3b8',
    peak: '#f59e0b',
    trough: '#dc2626',
    gain: 'rgba(22, 163, 74, 0.75)',
    loss: 'rgba(220, 38, 38, 0.75)',
    shade: 'rgba(250, 204, 21, 0.16)',
    grid: '#eef2f7'
  };

  // Formats epoch milliseconds as local time of the run's zone.
  function clock(tz) {
    var options = {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit'
    };
    var format;
    try {
      format = new Intl.DateTimeFormat('en-GB', options);
    } catch (e) {
      options.timeZone = 'UTC';
      format = new Intl.DateTimeFormat('en-GB', options);
    }
    var fields = function (ms) {
      var p = {};
      format.formatToParts(new Date(ms)).forEach(function (x) { p[x.type] = x.value; });
      return p;
    };
    var fmt = function (ms, parts) {
      var p = fields(ms);
      var date = p.year + '-' + p.month + '-' + p.day;
      var time = p.hour + ':' + p.minute;
      if (parts === 'date') return date;
      if (parts === 'time') return time;
      if (parts === 'short') return p.month + '-' + p.day + ' ' + time;
      return date + ' ' + time + ':' + p.second;
    };
    return fmt;
  }

  function number(v) {
    return Number(v).toLocaleString('en-US', { maximumFractionDigits: 4 });
  }

  // Shades the trading day: options.from and options.to are axis values.
  var dayShade = {
    id: 'dayShade',
    beforeDatasetsDraw: function (chart, args, options) {
      if (options.from === undefined) return;
      var x = chart.scales.x, area = chart.chartArea;
      var left = Math.max(x.getPixelForValue(options.from), area.left);
      var right = Math.min(x.getPixelForValue(options.to), area.right);
      if (!(right > left)) return;
      var ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = colors.shade;
      ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
      ctx.restore();
    }
  };

  // The distinct times of the day page's data, in order: the x axis has one
  // step per time, so nights, weekends and holidays without market data take
  // no width.
  function marketTimes(data) {
    var seen = {};
    var add = function (t) { seen[t] = true; };
    data.prices.forEach(function (s) { s.points.forEach(function (p) { add(p[0]); }); });
    data.equity.forEach(function (p) { add(p[0]); });
    data.fills.concat(data.window_fills).forEach(function (f) { add(f.t); });
    var times = Object.keys(seen).map(Number).sort(function (a, b) { return a - b; });
    return times.length ? times : [data.day_begin];
  }

  // The number of times before `t`: the index of the first time at or after it.
  function lowerBound(times, t) {
    var lo = 0, hi = times.length;
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (times[mid] < t) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // An axis of time indexes labelled with local times of the run's zone.
  function indexAxis(times, fmt) {
    var n = times.length;
    var span = times[n - 1] - times[0];
    var parts = span > 4 * 86400e3 ? 'date' : span > 86400e3 ? 'short' : 'time';
    return {
      type: 'linear',
      min: -0.5,
      max: n - 0.5,
      grid: { color: colors.grid },
      afterBuildTicks: function (axis) {
        var step = Math.max(1, Math.ceil(n / 8)), ticks = [];
        for (var i = 0; i < n; i += step) ticks.push({ value: i });
        axis.ticks = ticks;
      },
      ticks: {
        maxRotation: 0,
        autoSkipPadding: 24,
        callback: function (v) {
          var i = Math.round(v);
          return i >= 0 && i < n ? fmt(times[i], parts) : '';
        }
      }
    };
  }

  function valueAxis() {
    return {
      grace: '6%',
      grid: { color: colors.grid },
      ticks: { callback: function (v) { return number(v); } }
    };
  }

  function make(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) throw new Error('no canvas #' + id);
    var chart = new Chart(canvas, config);
    chart.blotterId = id;
    charts.push(chart);
    return chart;
  }

  function drawDay(data) {
    var fmt = clock(data.tz);
    var times = marketTimes(data);
    var at = function (t) { return Math.min(lowerBound(times, t), times.length - 1); };
    var shade = { from: lowerBound(times, data.day_begin) - 0.5,
                  to: lowerBound(times, data.day_end) - 0.5 };
    var tooltipTitle = function (items) {
      return items.length ? fmt(times[Math.round(items[0].parsed.x)]) : '';
    };
    expectedFills = data.fills.length;
    data.prices.forEach(function (series, i) {
      var fills = data.fills.filter(function (f) { return f.chart === i; });
      var others = data.window_fills.filter(function (f) { return f.chart === i; });
      var marker = function (side, list) {
        return list.filter(function (f) { return f.side === side; }).map(function (f) {
          return { x: at(f.t), y: f.price, fill: f };
        });
      };
      var many = series.points.length > 120;
      make('price-' + i, {
        type: 'line',
        data: {
          datasets: [
            {
              label: series.symbol,
              data: series.points.map(function (p) { return { x: at(p[0]), y: p[1], seq: p[2] }; }),
              borderColor: colors.price,
              backgroundColor: colors.price,
              borderWidth: 1.6,
              pointRadius: many ? 0 : 2,
              pointHoverRadius: 4,
              tension: 0,
              order: 3
            },
            {
              type: 'scatter', label: 'buy', blotterRole: 'fills', data: marker('buy', fills),
              pointStyle: 'triangle', pointRadius: 9, pointHoverRadius: 11,
              backgroundColor: colors.buy, borderColor: '#ffffff', borderWidth: 1.5, order: 1
            },
            {
              type: 'scatter', label: 'sell', blotterRole: 'fills', data: marker('sell', fills),
              pointStyle: 'triangle', rotation: 180, pointRadius: 9, pointHoverRadius: 11,
              backgroundColor: colors.sell, borderColor: '#ffffff', borderWidth: 1.5, order: 1
            },
            {
              type: 'scatter', label: 'fills of other days', data: marker('buy', others),
              pointStyle: 'triangle', pointRadius: 6, pointHoverRadius: 8,
              backgroundColor: '#ffffff', borderColor: colors.buy, borderWidth: 1.5, order: 2
            },
            {
              type: 'scatter', label: 'fills of other days', data: marker('sell', others),
              blotterLegend: false,
              pointStyle: 'triangle', rotation: 180, pointRadius: 6, pointHoverRadius: 8,
              backgroundColor: '#ffffff', borderColor: colors.sell, borderWidth: 1.5, order: 2
            }
          ]
        },
        options: {
          maintainAspectRatio: false,
          interaction: { mode: 'nearest', intersect: false },
          scales: { x: indexAxis(times, fmt), y: valueAxis() },
          plugins: {
            dayShade: shade,
            legend: {
              labels: {
                usePointStyle: true,
                boxHeight: 8,
                filter: function (item, chartData) {
                  var ds = chartData.datasets[item.datasetIndex];
                  return ds.blotterLegend !== false && (ds.blotterRole === 'fills' || ds.data.length > 0);
                }
              }
            },
            tooltip: {
              callbacks: {
                title: tooltipTitle,
                label: function (item) {
                  var f = item.raw.fill;
                  if (f) return f.side + ' ' + f.quantity + ' @ ' + f.price_text + '  (#' + f.seq + ')';
                  return series.symbol + ' ' + number(item.parsed.y) + '  (#' + item.raw.seq + ')';
                }
              }
            }
          }
        },
        plugins: [dayShade]
      });
    });

    var equity = data.equity.map(function (p) { return { x: at(p[0]), y: p[1], seq: p[2] }; });
    var datasets = [
      {
        label: 'equity', data: equity, stepped: true, borderColor: colors.equity,
        backgroundColor: colors.equity, borderWidth: 1.8,
        pointRadius: 0, pointHoverRadius: 3, order: 3
      },
      {
        label: 'open', data: [{ x: -0.5, y: data.open_equity },
                              { x: times.length - 0.5, y: data.open_equity }],
        borderColor: colors.open, borderDash: [5, 4], borderWidth: 1, pointRadius: 0, order: 2
      }
    ];
    if (data.drawdown) {
      datasets.push({
        type: 'scatter', label: 'drawdown peak', pointRadius: 6, order: 1,
        backgroundColor: colors.peak, borderColor: '#ffffff', borderWidth: 1.5,
        data: [{ x: at(data.drawdown.peak[0]), y: data.drawdown.peak[1] }]
      });
      datasets.push({
        type: 'scatter', label: 'trough (\u2212' + data.drawdown.amount + ')', pointRadius: 6,
        order: 1, backgroundColor: colors.trough, borderColor: '#ffffff', borderWidth: 1.5,
        data: [{ x: at(data.drawdown.trough[0]), y: data.drawdown.trough[1] }]
      });
    }
    make('equity', {
      type: 'line',
      data: { datasets: datasets },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', intersect: false },
        scales: { x: indexAxis(times, fmt), y: valueAxis() },
        plugins: {
          dayShade: shade,
          legend: { labels: { usePointStyle: true, boxHeight: 8 } },
          tooltip: {
            callbacks: {
              title: tooltipTitle,
              label: function (item) {
                return item.dataset.label + ' ' + number(item.parsed.y) +
                    (item.raw.seq ? '  (#' + item.raw.seq + ')' : '');
              }
            }
          }
        }
      },
      plugins: [dayShade]
    });
  }

  function drawRange(data) {
    var labels = data.days.map(function (d) { return d.day; });
    make('daily-pnl', {
      type: 'bar',
      data: {
        labels: labels,
        datasets: [{
          label: 'daily PnL', blotterRole: 'days',
          data: data.days.map(function (d) { return d.pnl; }),
          backgroundColor: data.days.map(function (d) { return d.pnl < 0 ? colors.loss : colors.gain; }),
          borderWidth: 0, barPercentage: 0.9, categoryPercentage: 1.0, minBarLength: 1
        }]
      },
      options: {
        maintainAspectRatio: false,
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 24 } },
          y: valueAxis()
        },
        plugins: { legend: { display: false } }
      }
    });
    make('equity', {
      type: 'line',
      data: {
        labels: labels,
        datasets: [{
          label: 'equity at the close', data: data.days.map(function (d) { return d.equity; }),
          borderColor: colors.equity, backgroundColor: colors.equity, borderWidth: 1.8, pointRadius: data.days.length > 60 ? 0 : 2, tension: 0
        }]
      },
      options: {
        maintainAspectRatio: false,
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 24 } },
          y: valueAxis()
        },
        plugins: { legend: { display: false } }
      }
    });
  }

  // What the charts show, read back from Chart.js's own element geometry.
  function summarize() {
    var check = { charts: [], fills_expected: expectedFills, fills_marked: 0, bars: 0,
                  errors: errors.slice() };
    charts.forEach(function (chart) {
      var area = chart.chartArea;
      var entry = { id: chart.blotterId, datasets: [],
                    x_labels: chart.scales.x.ticks.map(function (t) { return t.label; }) };
      chart.data.datasets.forEach(function (ds, i) {
        var meta = chart.getDatasetMeta(i);
        var visible = 0;
        if (chart.isDatasetVisible(i)) {
          meta.data.forEach(function (el) {
            if (!el.skip && isFinite(el.x) && isFinite(el.y) &&
                el.x >= area.left - 0.5 && el.x <= area.right + 0.5 &&
                el.y >= area.top - 0.5 && el.y <= area.bottom + 0.5) visible++;
          });
        }
        // The widest and narrowest gaps between neighbouring points, in pixels.
        var gaps = [];
        for (var k = 1; k < meta.data.length; k++) gaps.push(meta.data[k].x - meta.data[k - 1].x);
        entry.datasets.push({ label: ds.label, points: meta.data.length, visible: visible,
                              max_gap: gaps.length ? Math.max.apply(null, gaps) : 0,
                              min_gap: gaps.length ? Math.min.apply(null, gaps) : 0 });
        if (ds.blotterRole === 'fills') check.fills_marked += visible;
        if (ds.blotterRole === 'days') check.bars += visible;
      });
      check.charts.push(entry);
    });
    // The headline figures: a figure wider than its box is cut.
    check.cards = [];
    document.querySelectorAll('.card .value').forEach(function (el) {
      check.cards.push({ text: el.textContent, scroll_width: el.scrollWidth,
                         client_width: el.clientWidth });
    });
    document.getElementById('render-check').textContent = JSON.stringify(check);
  }

  try {
    var data = JSON.parse(document.getElementById('report-data').textContent);
    Chart.defaults.animation = false;
    Chart.defaults.font.family =
        'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif';
    Chart.defaults.color = '#475569';
    if (data.kind === 'day') drawDay(data); else drawRange(data);
  } catch (e) {
    errors.push('render: ' + (e && e.stack ? e.stack : String(e)));
  }
  summarize();
  // Again once layout has settled (a resize redraws the charts).
  window.addEventListener('load', function () { setTimeout(summarize, 100); });
})();
