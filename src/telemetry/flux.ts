// Flux queries behind the history API when InfluxDB 2 is the sink (https://docs.influxdata.com/flux/v0/).
// Values are interpolated with the client's `flux` tag, which quotes strings and writes dates as RFC 3339
// literals; durations are whole milliseconds we computed, written as duration literals.
//
// Buckets are [from + i·every, …): aggregateWindow() aligns windows to the epoch plus `offset`, so offset =
// from mod every makes them start at `from`; timeSrc "_start" labels each window by its start.
import { flux, fluxExpression, type ParameterizedQuery } from '@influxdata/influxdb-client';

const ms = (n: number) => fluxExpression(`${Math.trunc(n)}ms`);

export interface FluxTarget {
  bucket: string;
  measurement: string;
  device: string;
  from: number;
  to: number;
  every: number;
}

const offsetOf = (t: FluxTarget) => ms(((t.from % t.every) + t.every) % t.every);
const date = (t: number) => new Date(t);

/**
 * Litres per bucket from the per-interval `litres` points (written at each interval's end). An interval
 * belongs to the bucket holding its last instant, so points in (from, to] are read and shifted back 1 ms
 * before windowing: the quarter ending 06:00:00 lands in 05:00–06:00. A resent interval is one point
 * (InfluxDB overwrites a point with the same series and time), so it counts once.
 */
export function waterIntervalsQuery(t: FluxTarget): ParameterizedQuery {
  return flux`from(bucket: ${t.bucket})
  |> range(start: ${date(t.from + 1)}, stop: ${date(t.to + 1)})
  |> filter(fn: (r) => r._measurement == ${t.measurement} and r.device == ${t.device} and r._field == "litres")
  |> timeShift(duration: -1ms)
  |> aggregateWindow(every: ${ms(t.every)}, offset: ${offsetOf(t)}, fn: sum, createEmpty: true, timeSrc: "_start")
  |> keep(columns: ["_time", "_value"])`;
}

/** How far back the register query looks for the reading before `from` (meters report at least daily). */
export const REGISTER_LOOKBACK_MS = 7 * 86_400_000;

/**
 * Litres per bucket from rises of the register `totalM3`, for meters that send no intervals. difference()
 * with nonNegative gives null for a fall (a swapped or rolled-over meter: a reset, never negative use), and
 * each rise is counted at the later reading, as the SQLite sink does (src/telemetry/history.ts).
 */
export function waterRegisterQuery(t: FluxTarget): ParameterizedQuery {
  return flux`from(bucket: ${t.bucket})
  |> range(start: ${date(t.from - REGISTER_LOOKBACK_MS)}, stop: ${date(t.to)})
  |> filter(fn: (r) => r._measurement == ${t.measurement} and r.device == ${t.device} and r._field == "totalM3")
  |> difference(nonNegative: true)
  |> map(fn: (r) => ({r with _value: r._value * 1000.0}))
  |> range(start: ${date(t.from)}, stop: ${date(t.to)})
  |> aggregateWindow(every: ${ms(t.every)}, offset: ${offsetOf(t)}, fn: sum, createEmpty: true, timeSrc: "_start")
  |> keep(columns: ["_time", "_value"])`;
}

/** How far back the occupancy query looks for the state before `from`. */
export const STATE_LOOKBACK_MS = 30 * 86_400_000;

/** The last `occupied` report before `from` (the state the range starts in). */
export function occupancyBeforeQuery(t: FluxTarget): ParameterizedQuery {
  return flux`from(bucket: ${t.bucket})
  |> range(start: ${date(t.from - STATE_LOOKBACK_MS)}, stop: ${date(t.from)})
  |> filter(fn: (r) => r._measurement == ${t.measurement} and r.device == ${t.device} and r._field == "occupied")
  |> last()
  |> keep(columns: ["_time", "_value"])`;
}

/** Every `occupied` report inside the range, oldest first; fractions are computed from them in history.ts. */
export function occupancyReportsQuery(t: FluxTarget): ParameterizedQuery {
  return flux`from(bucket: ${t.bucket})
  |> range(start: ${date(t.from)}, stop: ${date(t.to)})
  |> filter(fn: (r) => r._measurement == ${t.measurement} and r.device == ${t.device} and r._field == "occupied")
  |> keep(columns: ["_time", "_value"])
  |> sort(columns: ["_time"])`;
}

/** The last battery level reported in each bucket. */
export function batteryQuery(t: FluxTarget): ParameterizedQuery {
  return flux`from(bucket: ${t.bucket})
  |> range(start: ${date(t.from)}, stop: ${date(t.to)})
  |> filter(fn: (r) => r._measurement == ${t.measurement} and r.device == ${t.device} and r._field == "batteryPct")
  |> aggregateWindow(every: ${ms(t.every)}, offset: ${offsetOf(t)}, fn: last, createEmpty: true, timeSrc: "_start")
  |> keep(columns: ["_time", "_value"])`;
}
