import { z } from 'zod';
import { toText } from './cell-values.js';
import type { TransformFn } from './transform-types.js';

/**
 * `date` and `dateTime`: read legacy date text into FHIR `date` / `dateTime`. Formats use the
 * tokens `YYYY`, `MM`, `DD` (and `hh`, `mm`, `ss` for dateTime) with the separators `-`, `/`, `.`,
 * space (and `T`, `:` for dateTime). A zero date (`0000-00-00`, `00/00/0000`) or an impossible
 * one (`2023-02-30`) is absent, never an error: MySQL stores them happily.
 */

const DATE_FORMAT_PATTERN = /^(YYYY|MM|DD|[-/. ])+$/;
const DATE_TIME_FORMAT_PATTERN = /^(YYYY|MM|DD|hh|mm|ss|[-/. T:])+$/;
const TOKEN_PATTERN = /YYYY|MM|DD|hh|mm|ss|[-/. T:]/g;

type DateToken = 'YYYY' | 'MM' | 'DD' | 'hh' | 'mm' | 'ss';

function tokensOf(format: string): string[] {
  return format.match(TOKEN_PATTERN) ?? [];
}

function isDateToken(token: string): token is DateToken {
  return token.length === 2 || token === 'YYYY';
}

/** Returns why a format is unusable, or `undefined` when it is fine. */
function formatProblem(format: string, withTime: boolean): string | undefined {
  const pattern = withTime ? DATE_TIME_FORMAT_PATTERN : DATE_FORMAT_PATTERN;
  if (!pattern.test(format)) {
    return withTime
      ? 'a dateTime format uses only YYYY, MM, DD, hh, mm, ss and the separators - / . space T :'
      : 'a date format uses only YYYY, MM, DD and the separators - / . space';
  }
  const tokens = tokensOf(format).filter(isDateToken);
  if (new Set(tokens).size !== tokens.length) {
    return 'a date format names each token at most once';
  }
  const has = (t: DateToken) => tokens.includes(t);
  if (!has('YYYY')) {
    return 'a date format needs YYYY';
  }
  if (has('DD') && !has('MM')) {
    return 'a date format with DD needs MM';
  }
  if ((has('hh') || has('mm')) && !(has('DD') && has('hh') && has('mm'))) {
    return 'a dateTime format with a time needs YYYY, MM, DD, hh and mm';
  }
  if (has('ss') && !has('mm')) {
    return 'a dateTime format with ss needs mm';
  }
  return undefined;
}

const DateFormatSchema = z
  .string()
  .max(40)
  .superRefine((format, ctx) => {
    const problem = formatProblem(format, false);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: problem });
    }
  });

const DateTimeFormatSchema = z
  .string()
  .max(40)
  .superRefine((format, ctx) => {
    const problem = formatProblem(format, true);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: problem });
    }
  });

/** The formats `date` tries, in order, when none are given. */
export const DEFAULT_DATE_FORMATS: readonly string[] = [
  'YYYY-MM-DD',
  'YYYYMMDD',
  'DD/MM/YYYY',
  'DD-MM-YYYY',
];

/** The formats `dateTime` tries, in order, when none are given. */
export const DEFAULT_DATE_TIME_FORMATS: readonly string[] = [
  'YYYY-MM-DD hh:mm:ss',
  'YYYY-MM-DDThh:mm:ss',
  'YYYY-MM-DD hh:mm',
  'YYYY-MM-DD',
  'YYYYMMDDhhmmss',
  'YYYYMMDD',
  'DD/MM/YYYY hh:mm:ss',
  'DD/MM/YYYY hh:mm',
  'DD/MM/YYYY',
  'DD-MM-YYYY hh:mm:ss',
  'DD-MM-YYYY',
];

const TIMEZONE_PATTERN = /^(Z|[+-](0\d|1[0-3]):[0-5]\d|[+-]14:00)$/;

/** The precisions a date can be cut to. */
export const DATE_PRECISIONS = ['year', 'month', 'day'] as const;

export type DatePrecision = (typeof DATE_PRECISIONS)[number];

const PrecisionSchema = z.enum(DATE_PRECISIONS).optional();

export const DateOptionsSchema = z.strictObject({
  fn: z.literal('date'),
  /** Tried in order; the first that matches wins. @default ['YYYY-MM-DD','YYYYMMDD','DD/MM/YYYY','DD-MM-YYYY'] */
  formats: z.array(DateFormatSchema).min(1).max(20).optional(),
  /**
   * Cuts the value to a year (`1987`), a month (`1987-06`) or a day (`1987-06-15`, dropping any
   * time): an estimated birth date is known to the year only. @default as parsed
   */
  precision: PrecisionSchema,
});

export const DateTimeOptionsSchema = z.strictObject({
  fn: z.literal('dateTime'),
  /** Tried in order; the first that matches wins. @default DEFAULT_DATE_TIME_FORMATS */
  formats: z.array(DateTimeFormatSchema).min(1).max(20).optional(),
  /**
   * The offset of naive database values (legacy DATETIME has none), `Z` or `±hh:mm`. FHIR requires
   * an offset whenever a time is present. @default 'Z'
   */
  timezone: z
    .string()
    .regex(TIMEZONE_PATTERN, { error: 'timezone must be Z or an offset such as -03:00' })
    .optional(),
  /**
   * Cuts the value to a year (`1987`), a month (`1987-06`) or a day (`1987-06-15`, dropping any
   * time): an estimated birth date is known to the year only. @default as parsed
   */
  precision: PrecisionSchema,
});

export type DateOptions = z.infer<typeof DateOptionsSchema>;
export type DateTimeOptions = z.infer<typeof DateTimeOptionsSchema>;

interface DateParts {
  year: number;
  month?: number;
  day?: number;
  hour?: number;
  minute?: number;
  second?: number;
}

/** One compiled date format; build them with {@link compileDateFormats}. */
export interface DateMatcher {
  readonly regex: RegExp;
  readonly groups: readonly DateToken[];
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * Builds a matcher for a format. A two-digit token between separators accepts one or two digits
 * (`1/2/1980`); next to another token it needs exactly two (`YYYYMMDD`), or it would be ambiguous.
 */
function compileFormat(format: string): DateMatcher {
  const tokens = tokensOf(format);
  const groups: DateToken[] = [];
  let source = '';
  tokens.forEach((token, i) => {
    if (!isDateToken(token)) {
      source += escapeRegex(token);
      return;
    }
    groups.push(token);
    if (token === 'YYYY') {
      source += '(\\d{4})';
      return;
    }
    const before = tokens[i - 1];
    const after = tokens[i + 1];
    const glued =
      (before !== undefined && isDateToken(before)) || (after !== undefined && isDateToken(after));
    source += glued || token === 'mm' || token === 'ss' ? '(\\d{2})' : '(\\d{1,2})';
    if (token === 'ss') {
      // Fractional seconds are accepted and dropped.
      source += '(?:\\.\\d+)?';
    }
  });
  return { regex: new RegExp(`^${source}$`), groups };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Proleptic Gregorian, as `Date.UTC` counts (without allocating a Date per cell). */
function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) {
    return 29;
  }
  return DAYS_IN_MONTH[month - 1] ?? 0;
}

/** The number the `length` characters of `text` at `from` spell, or -1 unless all are digits. */
function digitsAt(text: string, from: number, length: number): number {
  let value = 0;
  for (let i = from; i < from + length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) {
      return -1;
    }
    value = value * 10 + digit;
  }
  return value;
}

/** Whether `text` starts with a real calendar date written `YYYY-MM-DD`. */
function startsWithIsoDate(text: string): boolean {
  if (text.length < 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) {
    return false;
  }
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  return year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/**
 * Whether `text` is exactly `YYYY-MM-DD hh:mm:ss` or `YYYY-MM-DDThh:mm:ss` with a real date and
 * time: what mysql2 returns for DATETIME and TIMESTAMP columns (`dateStrings`). The fast paths
 * below answer those without regular expressions; anything else takes the general path.
 */
function isIsoDateTime19(text: string): boolean {
  if (text.length !== 19 || !startsWithIsoDate(text)) {
    return false;
  }
  const separator = text.charCodeAt(10);
  if ((separator !== 32 && separator !== 84) || text.charCodeAt(13) !== 58) {
    return false;
  }
  if (text.charCodeAt(16) !== 58) {
    return false;
  }
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59;
}

/** False for zero dates, impossible dates and out-of-range times. */
function isValidParts(p: DateParts): boolean {
  if (p.year < 1 || p.year > 9999) {
    return false;
  }
  if (p.month !== undefined && (p.month < 1 || p.month > 12)) {
    return false;
  }
  if (
    p.day !== undefined &&
    (p.month === undefined || p.day < 1 || p.day > daysInMonth(p.year, p.month))
  ) {
    return false;
  }
  if (p.hour !== undefined && (p.hour > 23 || (p.minute ?? 0) > 59 || (p.second ?? 0) > 59)) {
    return false;
  }
  return true;
}

function matchFormats(text: string, formats: readonly DateMatcher[]): DateParts | undefined {
  for (const format of formats) {
    const m = format.regex.exec(text);
    if (m === null) {
      continue;
    }
    const parts: DateParts = { year: 0 };
    format.groups.forEach((token, i) => {
      const n = Number(m[i + 1]);
      if (token === 'YYYY') {
        parts.year = n;
      } else if (token === 'MM') {
        parts.month = n;
      } else if (token === 'DD') {
        parts.day = n;
      } else if (token === 'hh') {
        parts.hour = n;
      } else if (token === 'mm') {
        parts.minute = n;
      } else {
        parts.second = n;
      }
    });
    // A zero or impossible date under this format may still be a real date under a later one
    // (`01021980` is not YYYYMMDD but is DDMMYYYY); when none fits, the value is absent.
    if (isValidParts(parts)) {
      return parts;
    }
  }
  return undefined;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const pad4 = (n: number) => String(n).padStart(4, '0');

function formatDate(p: DateParts): string {
  let out = pad4(p.year);
  if (p.month !== undefined) {
    out += `-${pad2(p.month)}`;
    if (p.day !== undefined) {
      out += `-${pad2(p.day)}`;
    }
  }
  return out;
}

/** A trailing time (`10:30`, `10:30:00.000`, with an optional offset) that `date` ignores. */
const TRAILING_TIME = /[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * A cell as a FHIR `date`, or `undefined`. JS Dates use their local calendar date, which is what
 * mysql2 (default `timezone: 'local'`) meant by them; `'YYYY-MM-DD hh:mm:ss'` keeps its date part.
 */
export function toFhirDate(value: unknown, formats: readonly DateMatcher[]): string | undefined {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      return undefined;
    }
    const parts = { year: value.getFullYear(), month: value.getMonth() + 1, day: value.getDate() };
    return isValidParts(parts) ? formatDate(parts) : undefined;
  }
  // The default formats start with YYYY-MM-DD and drop a trailing time, so a DATE (or DATETIME)
  // string from mysql2 is its first 10 characters; the general path gives the same answer.
  if (typeof value === 'string' && formats === DEFAULT_DATE_MATCHERS) {
    if (value.length === 10 && startsWithIsoDate(value)) {
      return value;
    }
    if (isIsoDateTime19(value)) {
      return value.slice(0, 10);
    }
  }
  const text = toText(value)?.trim().replace(TRAILING_TIME, '');
  if (text === undefined || text === '') {
    return undefined;
  }
  const parts = matchFormats(text, formats);
  return parts === undefined ? undefined : formatDate(parts);
}

const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-](?:0\d|1[0-3]):[0-5]\d|[+-]14:00)$/;

function offsetMinutes(timezone: string): number {
  if (timezone === 'Z') {
    return 0;
  }
  const sign = timezone.startsWith('-') ? -1 : 1;
  return sign * (Number(timezone.slice(1, 3)) * 60 + Number(timezone.slice(4, 6)));
}

/**
 * A cell as a FHIR `dateTime`, or `undefined`. Naive values get `timezone`; values that already
 * carry an offset keep it; JS Dates are instants and are written in `timezone`.
 */
export function toFhirDateTime(
  value: unknown,
  formats: readonly DateMatcher[],
  timezone: string,
): string | undefined {
  if (value instanceof Date) {
    const t = value.getTime();
    if (Number.isNaN(t)) {
      return undefined;
    }
    const shifted = new Date(t + offsetMinutes(timezone) * 60_000);
    const year = shifted.getUTCFullYear();
    if (year < 1 || year > 9999) {
      return undefined;
    }
    return `${shifted.toISOString().slice(0, 19)}${timezone}`;
  }
  // The default formats start with `YYYY-MM-DD hh:mm:ss` and `YYYY-MM-DDThh:mm:ss`; the general
  // path gives the same answer for them.
  if (
    typeof value === 'string' &&
    formats === DEFAULT_DATE_TIME_MATCHERS &&
    isIsoDateTime19(value)
  ) {
    return `${value.slice(0, 10)}T${value.slice(11)}${timezone}`;
  }
  const text = toText(value)?.trim();
  if (text === undefined || text === '') {
    return undefined;
  }
  const iso = ISO_WITH_OFFSET.exec(text);
  if (iso !== null) {
    const parts: DateParts = {
      year: Number(iso[1]),
      month: Number(iso[2]),
      day: Number(iso[3]),
      hour: Number(iso[4]),
      minute: Number(iso[5]),
      second: Number(iso[6] ?? '0'),
    };
    if (!isValidParts(parts)) {
      return undefined;
    }
    return `${formatDate(parts)}T${pad2(parts.hour ?? 0)}:${pad2(parts.minute ?? 0)}:${pad2(parts.second ?? 0)}${iso[7] ?? ''}${iso[8]}`;
  }
  const parts = matchFormats(text, formats);
  if (parts === undefined) {
    return undefined;
  }
  if (parts.hour === undefined) {
    return formatDate(parts);
  }
  return `${formatDate(parts)}T${pad2(parts.hour)}:${pad2(parts.minute ?? 0)}:${pad2(parts.second ?? 0)}${timezone}`;
}

/** Compiles a list of formats once; the result is what {@link toFhirDate} expects. */
export function compileDateFormats(formats: readonly string[]): readonly DateMatcher[] {
  return formats.map(compileFormat);
}

/** The compiled default formats, shared by every date element without a transform. */
export const DEFAULT_DATE_MATCHERS = compileDateFormats(DEFAULT_DATE_FORMATS);
/** The compiled default dateTime formats, shared by every dateTime element without a transform. */
export const DEFAULT_DATE_TIME_MATCHERS = compileDateFormats(DEFAULT_DATE_TIME_FORMATS);

/** The length of a FHIR date or dateTime cut to `precision`. */
const PRECISION_LENGTH: Readonly<Record<DatePrecision, number>> = { year: 4, month: 7, day: 10 };

/**
 * A FHIR date or dateTime cut to `precision`. A value already less precise stays as it is; a
 * dateTime cut to a day loses its time and offset, which FHIR allows (`1987-06-15`).
 */
export function cutDate(value: string, precision: DatePrecision): string {
  const length = PRECISION_LENGTH[precision];
  return value.length > length ? value.slice(0, length) : value;
}

/** `year` or `YYYY-MM` as FHIR writes a date of that precision (a zero year or month is not one). */
const REDUCED_DATE = /^(?!0000)\d{4}(-(0[1-9]|1[0-2]))?$/;

/**
 * A FHIR date of year or month precision (`1987`, `1987-06`), trimmed, or `undefined`. The final
 * coercion of date elements accepts these, so a value cut by `precision` survives any transform
 * that follows it (and a year-only column can feed a date).
 */
export function toReducedFhirDate(value: unknown): string | undefined {
  const text = toText(value)?.trim();
  return text !== undefined && REDUCED_DATE.test(text) ? text : undefined;
}

export function createDate(options: DateOptions): TransformFn {
  const formats =
    options.formats === undefined ? DEFAULT_DATE_MATCHERS : compileDateFormats(options.formats);
  const { precision } = options;
  if (precision === undefined) {
    return (value) => toFhirDate(value, formats);
  }
  return (value) => {
    const date = toFhirDate(value, formats);
    return date === undefined ? undefined : cutDate(date, precision);
  };
}

export function createDateTime(options: DateTimeOptions): TransformFn {
  const formats =
    options.formats === undefined
      ? DEFAULT_DATE_TIME_MATCHERS
      : compileDateFormats(options.formats);
  const timezone = options.timezone ?? 'Z';
  const { precision } = options;
  if (precision === undefined) {
    return (value) => toFhirDateTime(value, formats, timezone);
  }
  return (value) => {
    const dateTime = toFhirDateTime(value, formats, timezone);
    return dateTime === undefined ? undefined : cutDate(dateTime, precision);
  };
}
