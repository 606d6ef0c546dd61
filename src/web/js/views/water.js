// A household's water use from the history API (GET api/devices/{id}/telemetry), as a uPlot bar chart: the
// last 24 hours by hour, or the last 7 / 30 days by local day. A bucket no data covers is a gap, not zero
// (a silent meter is not a meter showing no use). Below it, the household's usual day (learned by no_water_use)
// beside today, so a volunteer can judge a no-water alert at a glance.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from '../html.js';
import { api } from '../api.js';
import { useApi, go } from '../hooks.js';
import { errorText, local, startOfLocalDay, startOfLocalHour } from '../zh.js';

const RANGES = {
  day: { label: '近24小时', every: '1h', from: (now) => startOfLocalHour(now) - 23 * 3_600_000 },
  // The community's midnight `n` days ago: day buckets align with the household's days, not UTC's nor the browser's.
  week: { label: '近7天', every: '1d', from: (now) => startOfLocalDay(now, 6) },
  month: { label: '近30天', every: '1d', from: (now) => startOfLocalDay(now, 29) },
};

function Chart({ buckets, every }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const xs = buckets.map((b) => Date.parse(b.start) / 1000);
    const ys = buckets.map((b) => b.value);
    const hourly = every === '1h';
    const step = (xs.length > 1 ? xs[1] - xs[0] : hourly ? 3600 : 86400);
    const opts = {
      width: el.clientWidth || 600,
      height: Math.max(220, Math.min(360, Math.round((el.clientWidth || 600) * 0.45))),
      legend: { show: true },
      cursor: { points: { show: false } },
      // Each bar covers its bucket [start, start + every): bars start at their x, and the scale ends one bucket later.
      scales: { x: { time: true, range: () => [xs[0], xs[xs.length - 1] + step] }, y: { range: (_u, _min, max) => [0, Math.max(10, Math.ceil((max ?? 0) * 1.15))] } },
      axes: [
        {
          stroke: '#55657a',
          grid: { stroke: '#e6ebf2' },
          values: (_u, ticks) =>
            ticks.map((t) => {
              const d = local(t * 1000);
              return hourly ? `${String(d.hour).padStart(2, '0')}时` : `${d.month}/${d.day}`;
            }),
        },
        // The unit is in the caption above the chart, read left to right: uPlot turns an axis label on its side,
        // which for one Chinese character (升) reads as a stray glyph.
        { stroke: '#55657a', grid: { stroke: '#e6ebf2' }, size: 48 },
      ],
      series: [
        {
          label: '时间',
          value: (_u, t) => {
            if (t === null || t === undefined) return '—';
            const d = local(t * 1000);
            return hourly ? `${d.month}月${d.day}日 ${String(d.hour).padStart(2, '0')}:00` : `${d.month}月${d.day}日`;
          },
        },
        {
          label: '用水量',
          stroke: '#2b7bd6',
          fill: 'rgba(43,123,214,0.35)',
          width: 1,
          paths: uPlot.paths.bars({ size: [0.8, 60], align: 1 }),
          points: { show: false },
          value: (_u, v) => (v === null || v === undefined ? '无数据' : `${Math.round(v * 10) / 10} 升`),
        },
      ],
    };
    const plot = new uPlot(opts, [xs, ys], el);
    const ro = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: opts.height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [buckets, every]);
  return html`<figure class="chart-box"><figcaption class="chart-unit" data-testid="water-unit">用水量（升）</figcaption><div class="chart" ref=${box} data-testid="water-chart"></div></figure>`;
}

/**
 * The elder's usual day beside today (GET api/care/elders/{householdId}/water): per local hour, the litres this
 * household usually uses (learned by no_water_use) as a line, and today's hours as the meter showed them (above
 * the drip floor) as bars; an hour no data covers is a gap.
 */
function UsualDay({ data }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const xs = Array.from({ length: 24 }, (_, h) => h);
    const usual = data.usualDay.map((h) => h.litres);
    const midnight = startOfLocalDay(Date.now());
    const today = xs.map(() => null);
    for (const s of data.recent) {
      if (Date.parse(s.at) < midnight || s.coveredMinutes === 0) continue;
      today[s.hour] = Math.round(((today[s.hour] ?? 0) + s.litres) * 10) / 10;
    }
    const opts = {
      width: el.clientWidth || 600,
      height: 220,
      legend: { show: true },
      cursor: { points: { show: false } },
      scales: { x: { time: false, range: () => [0, 24] }, y: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil((max ?? 0) * 1.15))] } },
      axes: [
        { stroke: '#55657a', grid: { stroke: '#e6ebf2' }, values: (_u, ticks) => ticks.map((t) => `${t}时`) },
        { stroke: '#55657a', grid: { stroke: '#e6ebf2' }, size: 48 },
      ],
      series: [
        { label: '时段', value: (_u, h) => (h === null || h === undefined ? '—' : `${h}:00–${h + 1}:00`) },
        {
          label: '今天',
          stroke: '#2b7bd6',
          fill: 'rgba(43,123,214,0.35)',
          width: 1,
          paths: uPlot.paths.bars({ size: [0.8, 40], align: 1 }),
          points: { show: false },
          value: (_u, v) => (v === null || v === undefined ? '无数据' : `${v} 升`),
        },
        { label: '平时', stroke: '#d97a2b', width: 2, points: { show: false }, value: (_u, v) => (v === null || v === undefined ? '—' : `约 ${v} 升`) },
      ],
    };
    const plot = new uPlot(opts, [xs, today, usual], el);
    const ro = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height: opts.height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [data]);
  const note = data.learning
    ? `用水规律学习中（已学 ${data.historyDays} 天），暂按固定规则判断（12 小时内少于 10 升）`
    : `按已学 ${data.historyDays} 天的用水规律判断`;
  return html`
    <h3 class="view-subtitle">平时的一天与今天</h3>
    <p class="muted" data-testid="usual-day-note">${note}${data.floorLph > 0 ? ` · 持续小流量约 ${data.floorLph} 升/时（疑似滴漏，不计为用水）` : ''}</p>
    <figure class="chart-box"><figcaption class="chart-unit">用水量（升），按小时</figcaption><div class="chart" ref=${box} data-testid="usual-day-chart"></div></figure>
  `;
}

export function WaterView({ places, arg }) {
  const meters = useApi('devices?kind=water-meter');
  const [range, setRange] = useState('day');
  const [history, setHistory] = useState({ data: null, error: null, loading: false });
  const items = meters.data?.items ?? [];
  // The argument is a device id or a household id (links from an alert or the care panel).
  const meter = items.find((d) => d.id === arg) ?? items.find((d) => d.householdId === arg);

  const usual = useApi(meter?.householdId ? `care/elders/${encodeURIComponent(meter.householdId)}/water` : null);

  useEffect(() => {
    if (!meter) return undefined;
    const ctrl = new AbortController();
    const now = Date.now();
    const r = RANGES[range];
    setHistory((h) => ({ ...h, loading: true, error: null }));
    api(`devices/${encodeURIComponent(meter.id)}/telemetry?field=water&every=${r.every}&from=${r.from(now)}&to=${now}`, { signal: ctrl.signal })
      .then((data) => setHistory({ data, error: null, loading: false }))
      .catch((error) => error.name !== 'AbortError' && setHistory({ data: null, error, loading: false }));
    return () => ctrl.abort();
  }, [meter?.id, range]);

  const label = (d) => {
    const h = d.householdId && places.household(d.householdId);
    return h ? `${h.label}${h.elder ? ` · ${h.elder}` : ''}` : places.deviceWhere(d);
  };
  const total = history.data?.buckets.reduce((s, b) => s + (b.value ?? 0), 0);
  const gaps = history.data?.buckets.filter((b) => b.value === null).length ?? 0;
  return html`
    <section class="water-view">
      <h2 class="view-title">住户用水</h2>
      ${meters.error && html`<p class="error">${errorText(meters.error)}</p>`}
      <div class="toolbar wrap">
        <label class="grow">住户
          <select value=${meter?.id ?? ''} onChange=${(e) => go('water', e.currentTarget.value)} data-testid="meter">
            <option value="">请选择住户水表…</option>
            ${items.map((d) => html`<option value=${d.id}>${label(d)}</option>`)}
          </select>
        </label>
        <div class="seg" role="group" aria-label="时间范围">
          ${Object.entries(RANGES).map(([k, r]) => html`<button class=${range === k ? 'on' : ''} onClick=${() => setRange(k)}>${r.label}</button>`)}
        </div>
      </div>
      ${!meter && meters.data && html`<p class="empty">${arg ? '找不到该住户的水表（可能不在您的网格内）。' : '选择一户，查看用水曲线。'}</p>`}
      ${meter && history.error && html`<p class="error">${errorText(history.error)}</p>`}
      ${meter &&
      history.data &&
      html`
        <p class="muted">${label(meter)} · ${
          gaps === history.data.buckets.length
            ? '该时段水表没有上报数据（没有数据不等于没有用水）'
            : html`合计 <b>${Math.round(total * 10) / 10}</b> 升${gaps ? ` · ${gaps} 个时段无数据（水表未上报）` : ''}`
        }</p>
        <${Chart} buckets=${history.data.buckets} every=${history.data.every} />
      `}
      ${meter && usual.data && usual.data.deviceId === meter.id && html`<${UsualDay} data=${usual.data} />`}
    </section>
  `;
}
