/**
 * Wall-clock times for the generated demo rows: minutes since 1970-01-01 00:00 of a naive local
 * clock (legacy columns hold no offset; the mappings add Chile's), counted back from a fixed
 * reference day rather than from today, so the data never changes under a test or a screenshot.
 * Also the formats the two legacy schemas store these times in.
 */

/** A naive local time: minutes since 1970-01-01 00:00. */
export type LocalTime = number;

const MINUTES_PER_DAY = 24 * 60;

/** The last day of the generated data: 2025-03-31, the month the hand-written rows end. */
export const DEMO_REFERENCE_DAY: LocalTime = Date.UTC(2025, 2, 31) / 60_000;

/** Midnight `days` days before the reference day. */
export function daysBeforeReference(days: number): LocalTime {
  return DEMO_REFERENCE_DAY - days * MINUTES_PER_DAY;
}

export function plusMinutes(time: LocalTime, minutes: number): LocalTime {
  return time + minutes;
}

export function plusDays(time: LocalTime, days: number): LocalTime {
  return time + days * MINUTES_PER_DAY;
}

/** Midnight of the day `time` falls on. */
export function startOfDay(time: LocalTime): LocalTime {
  return Math.floor(time / MINUTES_PER_DAY) * MINUTES_PER_DAY;
}

/** Whole years from `birth` to `at` (an age). */
export function yearsBetween(birth: LocalTime, at: LocalTime): number {
  const [b, a] = [parts(birth), parts(at)];
  const beforeBirthday = a.month < b.month || (a.month === b.month && a.day < b.day);
  return a.year - b.year - (beforeBirthday ? 1 : 0);
}

/** `2024-03-12` (a DATE column). */
export function toIsoDate(time: LocalTime): string {
  const { year, month, day } = parts(time);
  return `${year}-${pad(month)}-${pad(day)}`;
}

/** `2024-03-12 09:15:00` (a DATETIME column). */
export function toIsoDateTime(time: LocalTime): string {
  const { hour, minute } = parts(time);
  return `${toIsoDate(time)} ${pad(hour)}:${pad(minute)}:00`;
}

/** `12/03/2024` (hospital B's date text). */
export function toDayMonthYear(time: LocalTime): string {
  const { year, month, day } = parts(time);
  return `${pad(day)}/${pad(month)}/${year}`;
}

/** `12/03/2024 09:15` (hospital B's date-time text). */
export function toDayMonthYearTime(time: LocalTime): string {
  const { hour, minute } = parts(time);
  return `${toDayMonthYear(time)} ${pad(hour)}:${pad(minute)}`;
}

function parts(time: LocalTime) {
  const date = new Date(time * 60_000);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
  };
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
