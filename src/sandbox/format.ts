/** Date and number formats the upstream uses. All UTC. */

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** "YYYY-MM-DD HH:MM:SS" (UTC), the format of every date but package history's. */
export function formatDateTime(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** ISO-8601 as package history shows it: Airalo "2023-01-09T10:30:45+00:00", PressOne "2024-01-15T10:30:00Z". */
export function formatIso(epochMs: number, style: 'offset' | 'z'): string {
  const iso = new Date(epochMs).toISOString().slice(0, 19);
  return style === 'offset' ? `${iso}+00:00` : `${iso}Z`;
}

/** Order code "YYYYMMDD-000123". */
export function orderCode(createdAt: number, id: number): string {
  const d = new Date(createdAt);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(id, 6)}`;
}

/** Cents → USD number (10.5). */
export function usd(cents: number): number {
  return cents / 100;
}

/** Cents → the string prices sims and orders carry ("9.50"). */
export function usdString(cents: number): string {
  return (cents / 100).toFixed(2);
}
