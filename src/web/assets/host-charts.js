// Draws a host page's charts with uPlot from /api/hosts/:id/samples. A static file, because the
// Content-Security-Policy allows no inline script. Reads the host and range from <body data-*>.
(function () {
  'use strict';
  var body = document.body;
  var hostId = body.getAttribute('data-host-id');
  var rangeSeconds = Number(body.getAttribute('data-range-seconds')) || 86400;
  var status = document.getElementById('chart-status');
  var CHART_HEIGHT = 180;

  function say(text) {
    if (status) status.textContent = text;
  }

  function formatBytesPerSecond(value) {
    if (value === null || value === undefined) return '';
    var units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s', 'TiB/s'];
    var unit = 0;
    while (Math.abs(value) >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return (unit === 0 ? Math.round(value) : value.toFixed(1)) + ' ' + units[unit];
  }

  function percentAxis() {
    return {
      values: function (u, ticks) {
        return ticks.map(function (t) {
          return t + ' %';
        });
      },
      size: 56,
    };
  }

  // Which series each chart draws: [name in the API, legend label, colour].
  var CHARTS = {
    cpu: { lines: [['cpu_percent', 'CPU', '#2563eb']], percent: true },
    memory: {
      lines: [
        ['mem_percent', 'Memory', '#16a34a'],
        ['swap_percent', 'Swap', '#d97706'],
      ],
      percent: true,
    },
    disk: { lines: [['disk_max_percent', 'Fullest disk', '#9333ea']], percent: true },
    network: {
      lines: [
        ['rx_bytes_per_second', 'Receive', '#0891b2'],
        ['tx_bytes_per_second', 'Transmit', '#db2777'],
      ],
      percent: false,
    },
  };

  function xRange(times) {
    // A single point would give an empty time axis: widen it to a minute on each side.
    if (times.length === 1) return [times[0] - 60, times[0] + 60];
    return null;
  }

  function draw(data) {
    var times = data.time;
    if (!times || times.length === 0) {
      say('No samples in this range yet.');
      var empty = document.querySelector('.charts');
      if (empty) empty.hidden = true;
      body.setAttribute('data-charts', 'empty');
      return;
    }
    var charts = [];
    // The figure's content box: clientWidth includes its padding, which the canvas must not cover.
    function plotWidth(figure) {
      var style = window.getComputedStyle(figure);
      return Math.max(
        Math.floor(figure.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)),
        160,
      );
    }
    document.querySelectorAll('[data-chart]').forEach(function (figure) {
      var spec = CHARTS[figure.getAttribute('data-chart')];
      if (!spec) return;
      var fixedX = xRange(times);
      var opts = {
        width: plotWidth(figure),
        height: CHART_HEIGHT,
        scales: {
          x: fixedX
            ? {
                time: true,
                range: function () {
                  return fixedX;
                },
              }
            : { time: true },
          y: spec.percent
            ? { range: [0, 100] }
            : {
                range: function (u, min, max) {
                  return [0, Math.max(max, 1) * 1.1];
                },
              },
        },
        series: [{}].concat(
          spec.lines.map(function (line) {
            return {
              label: line[1],
              stroke: line[2],
              width: 2,
              spanGaps: false,
              points: { show: times.length < 60, size: 5 },
              value: spec.percent
                ? function (u, v) {
                    return v === null || v === undefined ? '–' : v.toFixed(1) + ' %';
                  }
                : function (u, v) {
                    return v === null || v === undefined ? '–' : formatBytesPerSecond(v);
                  },
            };
          }),
        ),
        axes: [
          {},
          spec.percent
            ? percentAxis()
            : {
                values: function (u, ticks) {
                  return ticks.map(formatBytesPerSecond);
                },
                size: 80,
              },
        ],
        legend: { live: true },
      };
      var columns = [times].concat(
        spec.lines.map(function (line) {
          return data.series[line[0]];
        }),
      );
      charts.push({ figure: figure, plot: new uPlot(opts, columns, figure) });
    });
    var note =
      data.samples +
      ' sample' +
      (data.samples === 1 ? '' : 's') +
      ' in range' +
      (data.downsampled ? ', averaged to ' + times.length + ' points' : '') +
      '.';
    say(note);
    window.addEventListener('resize', function () {
      charts.forEach(function (c) {
        c.plot.setSize({ width: plotWidth(c.figure), height: CHART_HEIGHT });
      });
    });
    body.setAttribute('data-charts', 'drawn');
  }

  if (!hostId || typeof uPlot === 'undefined') {
    say('Charts unavailable: the chart library did not load.');
    return;
  }
  var to = new Date();
  var from = new Date(to.getTime() - rangeSeconds * 1000);
  var url =
    '/api/hosts/' +
    encodeURIComponent(hostId) +
    '/samples?from=' +
    encodeURIComponent(from.toISOString()) +
    '&to=' +
    encodeURIComponent(to.toISOString());
  fetch(url, { credentials: 'same-origin', headers: { accept: 'application/json' } })
    .then(function (response) {
      if (!response.ok) throw new Error('the server answered ' + response.status);
      return response.json();
    })
    .then(draw)
    .catch(function (error) {
      say('Charts unavailable: ' + error.message);
      body.setAttribute('data-charts', 'failed');
    });
})();
