// GitLab's durations (ChronicDuration): "24h", "1h 30m", "90 minutes", "1 day", "3600" (seconds).

const DURATION_UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
  w: 604800,
  week: 604800,
  weeks: 604800,
  mo: 2592000,
  month: 2592000,
  months: 2592000,
  y: 31557600,
  yr: 31557600,
  year: 31557600,
  years: 31557600,
};

/** Seconds in a GitLab duration; undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  let total = 0;
  let matched = "";
  for (const m of trimmed.matchAll(/(\d+(?:\.\d+)?)\s*([a-z]+)\s*(?:and\s*|,\s*)?/g)) {
    const unit = DURATION_UNITS[m[2]!];
    if (unit === undefined) return undefined;
    total += Number(m[1]) * unit;
    matched += m[0];
  }
  return matched.replace(/\s/g, "") === trimmed.replace(/\s/g, "") && total > 0
    ? Math.round(total)
    : undefined;
}
