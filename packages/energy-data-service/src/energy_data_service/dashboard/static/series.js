// Reading a series from the API into chart lines: every stored point, in order, with an explicit
// break (null) wherever the stored sequence has a hole, so a gap is drawn as a gap.

import { config, getJson, query } from "./api.js";

export const FIXED_STEPS = { PT1M: 60, PT5M: 300, PT15M: 900, PT30M: 1800, PT60M: 3600, PT1H: 3600 };

/** Every page of one series in [start, end): {info, others, timestamps (s), values}. */
export async function readSeries({ area, dataType, start, end, resolution, sequence, asOf, psrType }) {
  const timestamps = [];
  const values = [];
  let cursor = null;
  let first = null;
  do {
    const page = await getJson(
      `/api/v1/energy-data?${query({
        area_code: area,
        data_type: dataType,
        start_time: start,
        end_time: end,
        limit: config.max_limit,
        cursor,
        resolution: cursor ? null : resolution,
        classification_sequence: cursor ? null : sequence,
        as_of: asOf,
        psr_type: psrType,
      })}`,
    );
    first = first || page;
    for (const point of page.points) {
      timestamps.push(Date.parse(point.timestamp) / 1000);
      values.push(point.value ?? point.price ?? null); // a price-only point carries its value as price
    }
    cursor = page.next_cursor;
  } while (cursor);
  return { info: first.series, others: first.other_series, timestamps, values };
}

/** Holes between consecutive points of a fixed-step series, as [start, end) in seconds. */
export function holes(timestamps, resolution) {
  const step = FIXED_STEPS[resolution];
  const found = [];
  if (!step) return found; // calendar resolutions (P1D, P1M…) have no fixed step to judge by
  for (let i = 1; i < timestamps.length; i++) {
    if (timestamps[i] - timestamps[i - 1] > step) found.push([timestamps[i - 1] + step, timestamps[i]]);
  }
  return found;
}

/** x and y arrays with a null at the start of every hole, so the line breaks there. */
export function withBreaks(timestamps, values, gaps) {
  if (!gaps.length) return [timestamps, values];
  const xs = [];
  const ys = [];
  let next = 0;
  for (let i = 0; i < timestamps.length; i++) {
    while (next < gaps.length && gaps[next][0] <= timestamps[i]) {
      xs.push(gaps[next][0]);
      ys.push(null);
      next++;
    }
    xs.push(timestamps[i]);
    ys.push(values[i]);
  }
  return [xs, ys];
}

export function label(dataType, info) {
  if (!info) return dataType;
  const sequence = info.classification_sequence ? ` seq ${info.classification_sequence}` : "";
  return `${dataType} ${info.resolution}${sequence}`;
}
