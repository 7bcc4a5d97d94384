/** How numbers, sizes and instants read on the dashboard. Plain text out; pages escape it. */

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** 12.345 → "12.3 %". */
export function formatPercent(percent: number | null | undefined): string {
  return percent === null || percent === undefined ? '–' : `${percent.toFixed(1)} %`;
}

/** Seconds as "3 d 4 h", "5 h 2 min", "42 s". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '–';
  const s = Math.max(0, seconds);
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** An ISO instant relative to now: "5 min ago". */
export function formatAgo(iso: string | null | undefined, now: Date): string {
  if (!iso) return 'never';
  const seconds = (now.getTime() - Date.parse(iso)) / 1000;
  if (seconds < 0) return 'just now';
  return `${formatDuration(seconds)} ago`;
}

/** An ISO instant as "2024-05-01 12:00:03 UTC". */
export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return '–';
  return `${iso.slice(0, 19).replace('T', ' ')} UTC`;
}
