import type { RowPace } from '../db/tenant-database.js';
import { type GatewayError, gatewayError } from '../errors.js';
import type { HeavyRequests, HeavySlot } from '../tenancy/heavy-requests.js';
import type { LightTicket } from '../tenancy/light-first.js';
import { longerThan, writeInPieces } from './sliced-json.js';
import { createSlicer, type Slicer, UNITS_PER_SLICE } from './slicer.js';

/** Serialised characters (about bytes: FHIR JSON is mostly ASCII) that count as one work unit. */
const CHARS_PER_UNIT = 1024;
/**
 * Answers of at most this many resources built are serialised in one `JSON.stringify` call: a few
 * hundred KiB at most, about the one slice (`UNITS_PER_SLICE` KiB) the piecewise writer would
 * spend on them without yielding, and written whole it costs a third of the time (S3's 220
 * resources: 140 µs piecewise).
 */
const WHOLE_UP_TO_RESOURCES = 500;

/** The default of `FHIRGATE_MAX_RESPONSE_BYTES`: 16 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface WorkLimits {
  /** Resources one request may build (`FHIRGATE_MAX_RESOURCES_PER_REQUEST`). */
  readonly maxResources: number;
  /** Bytes of one answer's JSON (`FHIRGATE_MAX_RESPONSE_BYTES`). */
  readonly maxBytes: number;
  /** The tenant's bulkhead for heavy requests; absent: none is heavy. */
  readonly heavy?: HeavyRequests | undefined;
  /** @default UNITS_PER_SLICE */
  readonly unitsPerSlice?: number;
}

/**
 * What one request may cost while its answer is built, the same for GraphQL and REST: it lives
 * in the request's context, the repository charges it for every resource the mapping builds and
 * every list it hands out, and the answer is serialised through it.
 *
 * - **Caps, counted on what is built**: past `maxResources` resources built or `maxBytes` bytes
 *   of JSON written, the charge throws 400 `RESPONSE_TOO_LARGE` and every later charge throws
 *   the same, so the request's remaining work stops at its next slice and the answer is that
 *   one error (never a part of the data).
 * - **Slices**: every charge counts work units (a resource built, a resource handed out, a KiB
 *   written); past `UNITS_PER_SLICE` in one turn the request waits for the next turn of the
 *   event loop (`slicer.ts`), so it never holds the loop for more than a slice at a time. Once
 *   admitted as heavy, a request charges the slicer all heavy requests share instead of its own,
 *   so heavy work takes one slice per turn however many heavy requests run.
 * - **Heavy admission**: a request whose worst case is above the threshold waits for a slot of
 *   its tenant's heavy-request bulkhead (`heavy-requests.ts`) before it runs, and holds it until
 *   its answer is written (`end`).
 */
export interface WorkBudget {
  /** Resources built so far. */
  readonly resources: number;
  /** The `RESPONSE_TOO_LARGE` error once a cap was passed; the answer must be only this. */
  readonly exceeded: GatewayError | undefined;
  /** Charges `count` resources about to be built: counts them against the cap, then paces. */
  built(count: number): Promise<void> | undefined;
  /** Charges `count` resources about to be handed out (a reverse-reference list): paces. */
  handOut(count: number): Promise<void> | undefined;
  /**
   * The pace of the rows of a statement about to start: once the request is admitted as heavy,
   * each batch of rows the driver is about to parse is charged to its slicer (never throwing: it
   * runs in the driver's data callbacks, and the caps are checked when the rows are built);
   * `undefined` for a light request, whose rows are read at once (no event per row).
   */
  readonly rowPace: RowPace | undefined;
  /** The JSON text of an answer, written in slices and counted against the byte cap. */
  serialize(value: unknown): Promise<string>;
  /**
   * {@link serialize} as pieces whose concatenation is the text, for a caller that wraps the text
   * and joins once (GraphQL's result around its `data`): each join copies the whole answer.
   */
  serializePieces(value: unknown): Promise<readonly string[]>;
  /**
   * Waits for a slot of the tenant's heavy-request bulkhead when `worstCase` is above its
   * threshold (rejects with `TENANT_BUSY` when it is full); nothing to wait for otherwise.
   */
  admit(worstCase: number): Promise<void> | undefined;
  /** Gives back the heavy slot, if any. Safe to call more than once. */
  end(): void;
}

/** @param ticket the request's place in the light-first count (`light-first.ts`), if counted */
export function createWorkBudget(
  clientId: string,
  limits: WorkLimits,
  ticket?: LightTicket,
): WorkBudget {
  let slicer: Slicer = createSlicer(limits.unitsPerSlice ?? UNITS_PER_SLICE);
  let resources = 0;
  let exceeded: GatewayError | undefined;
  let slot: HeavySlot | undefined;
  let ended = false;
  const parseRows: RowPace = (count) => slicer.pass(count);

  const stop = (message: string): never => {
    exceeded ??= gatewayError('RESPONSE_TOO_LARGE', message);
    throw exceeded;
  };
  const tooManyResources = () =>
    stop(
      `This request would return more than ${limits.maxResources} resources, the most one answer may hold. Lower _count or split it.`,
    );
  const tooManyBytes = () =>
    stop(
      `This answer would be larger than ${limits.maxBytes} bytes, the most one answer may be. Lower _count, select fewer elements or split it.`,
    );

  const serializePieces = async (value: unknown): Promise<readonly string[]> => {
    if (exceeded !== undefined) {
      throw exceeded;
    }
    if (resources <= WHOLE_UP_TO_RESOURCES) {
      // Small answers (most) in one call: nothing to slice, and no per-piece cost.
      const text = JSON.stringify(value) ?? 'null';
      if (longerThan(text, limits.maxBytes)) {
        tooManyBytes();
      }
      return [text];
    }
    let uncharged = 0;
    return writeInPieces(
      value,
      (chars) => {
        uncharged += chars;
        if (uncharged < CHARS_PER_UNIT) {
          return undefined;
        }
        const units = Math.floor(uncharged / CHARS_PER_UNIT);
        uncharged -= units * CHARS_PER_UNIT;
        return slicer.pass(units);
      },
      { maxBytes: limits.maxBytes, exceeded: tooManyBytes },
    );
  };

  return {
    get resources() {
      return resources;
    },
    get exceeded() {
      return exceeded;
    },
    built(count) {
      if (exceeded !== undefined) {
        throw exceeded;
      }
      resources += count;
      if (resources > limits.maxResources) {
        tooManyResources();
      }
      return slicer.pass(count);
    },
    handOut(count) {
      if (exceeded !== undefined) {
        throw exceeded;
      }
      return slicer.pass(count);
    },
    get rowPace() {
      return slot === undefined ? undefined : parseRows;
    },
    async serialize(value) {
      return (await serializePieces(value)).join('');
    },
    serializePieces,
    admit(worstCase) {
      const waiting =
        ended || slot !== undefined ? undefined : limits.heavy?.admit(clientId, worstCase, ticket);
      return waiting?.then((release) => {
        // The request may have ended while it queued (its client went away).
        if (ended) {
          release();
        } else {
          slot = release;
          slicer = limits.heavy?.slicer ?? slicer;
        }
      });
    },
    end() {
      ended = true;
      slot?.();
      slot = undefined;
    },
  };
}
