// Crossover front-end behaviour: no inline scripts (CSP). A chart is a canvas whose `data-chart`
// names the JSON block (Django's `json_script`) that describes it; charts are (re)drawn here on
// page load and after every htmx swap.
(function () {
  "use strict";

  const charts = new WeakMap();

  // JSON cannot carry functions, so configs name a format ("usd" or "count") for axis ticks
  // and tooltips, and it is turned into a callback here.
  const formats = {
    usd: function (v) {
      const digits = Math.abs(v) >= 1 || v === 0 ? 2 : 6;
      return "$" + Number(v).toLocaleString("en-US", { minimumFractionDigits: Math.min(digits, 2), maximumFractionDigits: digits });
    },
    count: function (v) { return Number(v).toLocaleString("en-US", { maximumFractionDigits: 0 }); },
  };

  function applyFormats(config) {
    const options = config.options || {};
    Object.values(options.scales || {}).forEach(function (scale) {
      const format = scale.ticks && formats[scale.ticks.cxFormat];
      if (format) scale.ticks.callback = function (value) { return format(value); };
    });
    const tooltip = options.plugins && options.plugins.tooltip;
    const format = tooltip && formats[tooltip.cxFormat];
    if (format) {
      tooltip.callbacks = {
        label: function (item) { return item.dataset.label + ": " + format(item.parsed.y); },
      };
    }
  }

  function drawChart(canvas) {
    const dataEl = document.getElementById(canvas.dataset.chart);
    if (!dataEl || typeof window.Chart === "undefined") return;
    const config = JSON.parse(dataEl.textContent);
    applyFormats(config);
    const previous = charts.get(canvas) || window.Chart.getChart(canvas);
    if (previous) previous.destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    charts.set(canvas, new window.Chart(canvas, config));
  }

  function drawCharts(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(drawChart);
  }

  function confirmForms(root) {
    (root || document).querySelectorAll("form[data-confirm]").forEach(function (form) {
      if (form.dataset.confirmBound) return;
      form.dataset.confirmBound = "1";
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  function copyButtons(root) {
    (root || document).querySelectorAll("button[data-copy]").forEach(function (button) {
      if (button.dataset.copyBound) return;
      button.dataset.copyBound = "1";
      button.addEventListener("click", function () {
        const source = document.getElementById(button.dataset.copy);
        if (!source || !navigator.clipboard) return;
        navigator.clipboard.writeText(source.textContent.trim()).then(function () {
          button.textContent = "Copied";
        });
      });
    });
  }

  // An error slot refreshed out of band (#err-<name>) keeps its input's aria-invalid in step,
  // which also outlines the input (CSS).
  function syncInvalid(root) {
    (root || document).querySelectorAll(".field-errors[id^='err-']").forEach(function (slot) {
      const input = document.getElementById("id_" + slot.id.slice(4));
      if (!input) return;
      if (slot.textContent.trim()) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
  }

  function init(root) {
    drawCharts(root);
    confirmForms(root);
    copyButtons(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
  document.addEventListener("htmx:oobAfterSwap", function () { syncInvalid(document); });
  window.crossover = { drawCharts: drawCharts };
})();
