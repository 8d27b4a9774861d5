import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * `Headers` as Yoga and the plugins read them (`get`, `has`, iteration), straight from the
 * headers Node has already parsed: nothing is copied unless something iterates.
 */
class NodeHeaders {
  readonly #raw: IncomingHttpHeaders;

  constructor(raw: IncomingHttpHeaders) {
    this.#raw = raw;
  }

  get(name: string): string | null {
    const value = this.#raw[name.toLowerCase()];
    if (value === undefined) {
      return null;
    }
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.#raw[name.toLowerCase()] !== undefined;
  }

  forEach(callback: (value: string, key: string, parent: NodeHeaders) => void): void {
    for (const [key, value] of this.entries()) {
      callback(value, key, this);
    }
  }

  *entries(): IterableIterator<[string, string]> {
    for (const key of Object.keys(this.#raw)) {
      const value = this.get(key);
      if (value !== null) {
        yield [key, value];
      }
    }
  }

  keys(): IterableIterator<string> {
    return Object.keys(this.#raw)[Symbol.iterator]();
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/** Reads a body the front door has bounded (a declared `Content-Length` of at most 64 KiB). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      ended = true;
      resolve((chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))?.toString('utf8') ?? '');
    });
    req.on('error', reject);
    req.on('close', () => {
      if (!ended) {
        reject(new Error('request body: the client closed the connection'));
      }
    });
  });
}

/**
 * A `POST` of the GraphQL endpoint as a Fetch API `Request`, for what Yoga and the plugins read
 * of it: the method, the URL, the headers, the body as text or JSON, and a signal made only if
 * something asks for it. Building a full `Request` (a `Headers` copy, a body stream and an
 * `AbortController` per request) was a tenth of a small read's time.
 */
export class NodeRequest {
  readonly method = 'POST';
  readonly url: string;
  readonly headers: NodeHeaders;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #body: Promise<string> | undefined;
  #signal: AbortSignal | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, url: string) {
    this.#req = req;
    this.#res = res;
    this.url = url;
    this.headers = new NodeHeaders(req.headers);
  }

  get bodyUsed(): boolean {
    return this.#body !== undefined;
  }

  get signal(): AbortSignal {
    if (this.#signal === undefined) {
      const controller = new AbortController();
      const res = this.#res;
      // A response closed before it finished: the client went away.
      res.once('close', () => {
        if (!res.writableFinished) {
          controller.abort();
        }
      });
      this.#signal = controller.signal;
    }
    return this.#signal;
  }

  text(): Promise<string> {
    this.#body ??= readBody(this.#req);
    return this.#body;
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
}
