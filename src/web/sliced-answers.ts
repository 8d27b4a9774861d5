import type { Plugin } from 'graphql-yoga';

/**
 * Large answers written to the socket a slice per turn of the event loop. An answer is built and
 * serialised in slices (`src/repository/slicer.ts`), but written whole it would hold the loop
 * once more at the end: a heavy read's 712 KB answer took 5-11 ms to encode and hand to the
 * socket in one call, while every other tenant's requests waited.
 */

/** Characters encoded and written per turn: 64 Ki, about 64 KiB of FHIR JSON. */
export const CHARS_PER_SLICE = 64 * 1024;

/** The media types whose answers are written in slices: JSON text, as every door answers. */
const JSON_TYPES = /^application\/(json|graphql-response\+json|fhir\+json)\b/;

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * `text` as UTF-8, one slice of at most `charsPerSlice` characters per turn of the event loop
 * (the first at once). A slice never ends between the two halves of a surrogate pair: each is
 * encoded on its own, so the bytes are exactly `Buffer.from(text)`.
 */
export function slicedBody(
  text: string,
  charsPerSlice = CHARS_PER_SLICE,
): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (at > 0) {
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        let end = Math.min(text.length, at + charsPerSlice);
        if (end < text.length && isHighSurrogate(text.charCodeAt(end - 1))) {
          end--;
        }
        controller.enqueue(Buffer.from(text.slice(at, end), 'utf8'));
        at = end;
        if (at >= text.length) {
          controller.close();
        }
      },
    },
    // Nothing read ahead: a slice is encoded when the socket asks for it.
    { highWaterMark: 0 },
  );
}

/** Answers already written in slices, which {@link useSlicedAnswers} leaves as they are. */
const sliced = new WeakSet<Response>();

/**
 * An answer of `text` in slices, with the `Content-Length` it would have had whole: what the
 * FHIR REST handlers build for a large answer (`budgetedResponse`).
 */
export function slicedResponse(
  text: string,
  init: { readonly status: number; readonly headers: Record<string, string> },
): Response {
  const response = new Response(slicedBody(text), {
    status: init.status,
    headers: { ...init.headers, 'content-length': String(Buffer.byteLength(text)) },
  });
  sliced.add(response);
  return response;
}

/**
 * The GraphQL answers' side (Yoga builds each answer as one string, with its `Content-Length`):
 * a JSON answer longer than `CHARS_PER_SLICE` bytes is sent as a {@link slicedBody}, with its
 * status and headers as they were. Reading that answer back gives the same string, not a copy.
 * Last among the plugins, so that every other `onResponse` hook has read or replaced the answer
 * before it is cut.
 */
export function useSlicedAnswers(): Plugin {
  return {
    // Not `async`: every answer passes here, and the small ones (nearly all) return at once
    // instead of as a promise the listener would wait a microtask for.
    onResponse({ request, response, setResponse, fetchAPI }) {
      const length = Number(response.headers.get('content-length'));
      if (
        !(length > CHARS_PER_SLICE) ||
        sliced.has(response) ||
        request.method === 'HEAD' ||
        !JSON_TYPES.test(response.headers.get('content-type') ?? '')
      ) {
        return;
      }
      return response.text().then((text) => {
        setResponse(
          new fetchAPI.Response(slicedBody(text), {
            status: response.status,
            statusText: response.statusText,
            headers: response.headers,
          }),
        );
      });
    },
  };
}
