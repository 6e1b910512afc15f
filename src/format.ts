// Display helpers: times in UTC, compact numbers.

/** `2026-03-12 04:00 UTC` from an ISO string (the input itself when it does not parse). */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) {
    return '—';
  }
  const d = parseUTC(iso);
  if (!d) {
    return String(iso);
  }
  return d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

/** 12,345 / 0.0123 / 1.2e-30 */
export function fmtNumber(x: unknown): string {
  if (x === null || x === undefined) {
    return '—';
  }
  if (typeof x !== 'number') {
    return String(x);
  }
  if (Number.isInteger(x)) {
    return x.toLocaleString('en-US');
  }
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) {
    return x.toExponential(2);
  }
  return x.toLocaleString('en-US', { maximumFractionDigits: a < 1 ? 4 : 2 });
}

/** `1 min 5 s`, `12.3 s` */
export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) {
    return '';
  }
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - 60 * m)} s`;
}

/** ISO (UTC) → the value of a datetime-local input (read as UTC): `2026-03-12T00:00`. */
export function isoToLocalInput(iso: string | null | undefined): string {
  const d = parseUTC(iso);
  return d ? d.toISOString().slice(0, 16) : '';
}

/** An ISO string read as UTC when it names no zone (`2026-03-12`, `2026-03-12T04:00`); null if invalid. */
export function parseUTC(iso: string | null | undefined): Date | null {
  if (!iso) {
    return null;
  }
  let s = iso.trim().replace(' ', 'T');
  if (/^\d{4}-\d\d-\d\d$/.test(s)) {
    s += 'T00:00';
  }
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(s)) {
    s += 'Z';
  }
  const d = new Date(s);
  return isNaN(d.getTime()) ? null : d;
}

/** A datetime-local value read as UTC → `2026-03-12T00:00:00Z` ('' stays ''). */
export function localInputToIso(value: string): string {
  if (!value) {
    return '';
  }
  return (value.length === 16 ? value + ':00' : value.slice(0, 19)) + 'Z';
}

/** The last path segment. */
export function basename(path: string): string {
  const parts = path.replace(/\/+$/, '').split('/');
  return parts[parts.length - 1] || path;
}

/** The folder of a path ('' for the root). */
export function dirname(path: string): string {
  const i = path.replace(/\/+$/, '').lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}
