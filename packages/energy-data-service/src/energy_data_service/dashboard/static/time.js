// Time as the page shows it: instants in the area's local time with UTC beside, dates as UTC.

const formats = new Map();

function formatter(timeZone) {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    });
    formats.set(timeZone, format);
  }
  return format;
}

/** "2025-03-30 03:00 GMT+2" for an instant in seconds (or a Date / ISO string). */
export function local(instant, timeZone) {
  const date = toDate(instant);
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

/** "2025-03-30 01:00Z". */
export function utc(instant) {
  return toDate(instant).toISOString().slice(0, 16).replace("T", " ") + "Z";
}

export function toDate(instant) {
  if (instant instanceof Date) return instant;
  if (typeof instant === "number") return new Date(instant * 1000);
  return new Date(instant);
}

/** A UTC calendar date "YYYY-MM-DD" → ISO instant at its 00:00Z. */
export function dayStart(day) {
  return `${day}T00:00:00Z`;
}

export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

export function addDays(day, days) {
  const date = new Date(dayStart(day));
  date.setUTCDate(date.getUTCDate() + days);
  return isoDay(date);
}

/** "3 h 15 min" for a span in seconds. */
export function span(seconds) {
  const minutes = Math.round(seconds / 60);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  return [days && `${days} d`, hours && `${hours} h`, rest && `${rest} min`].filter(Boolean).join(" ") || "0 min";
}

/** "in 12 min" / "5 min ago" relative to now. */
export function relative(instant) {
  const seconds = (toDate(instant).getTime() - Date.now()) / 1000;
  return seconds >= 0 ? `in ${span(seconds)}` : `${span(-seconds)} ago`;
}
