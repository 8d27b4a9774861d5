import { connect } from 'node:net';

/** An HTTP/1.1 response read off a raw socket. */
export interface RawResponse {
  readonly status: number;
  /** Header names lower-cased; a repeated header keeps its last value. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface RawRequest {
  /** `POST`, `GET`... sent as is. */
  readonly method: string;
  /** The request target exactly as sent: `//graphql`, `/%67raphql`, `/a/../graphql`. */
  readonly target: string;
  /** Header lines as sent (a `Host` is added unless one is given). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Body bytes written after the head; with `chunked`, as one chunk. */
  readonly body?: string | Buffer;
  /** Send the body as one `Transfer-Encoding: chunked` chunk. */
  readonly chunked?: boolean;
  /**
   * Leave the body unfinished (fewer bytes than `Content-Length`, or no last chunk): a server
   * that waited for the whole body would never answer.
   */
  readonly unfinished?: boolean;
  /** The local address to send from (any 127.x.y.z on Linux): a client address of its own. */
  readonly localAddress?: string;
}

/**
 * One request over a fresh TCP connection, byte for byte as given: `fetch` would normalise the
 * path (`/a/../graphql`), refuse a `Host` such as `a?` and always finish the body. Resolves with
 * the first response (read to its `Content-Length`), whatever the server does with the socket.
 */
export function rawHttp(url: string, request: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const headers: Record<string, string> = {
    host: `${hostname}:${port}`,
    ...request.headers,
  };
  if (request.chunked === true) {
    headers['transfer-encoding'] = 'chunked';
  }
  const head =
    `${request.method} ${request.target} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('') +
    '\r\n';
  const body = request.body === undefined ? Buffer.alloc(0) : Buffer.from(request.body);
  return new Promise<RawResponse>((resolve, reject) => {
    const socket = connect({
      port: Number(port),
      host: hostname,
      ...(request.localAddress === undefined ? {} : { localAddress: request.localAddress }),
    });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (result: RawResponse | Error) => {
      if (settled) {
        return;
      }
      settled = true;
      socket.destroy();
      if (result instanceof Error) {
        reject(result);
      } else {
        resolve(result);
      }
    };
    socket.on('connect', () => {
      socket.write(head);
      if (request.chunked === true) {
        if (body.length > 0) {
          socket.write(`${body.length.toString(16)}\r\n`);
          socket.write(body);
          socket.write('\r\n');
        }
        if (request.unfinished !== true) {
          socket.write('0\r\n\r\n');
        }
      } else if (body.length > 0) {
        socket.write(body);
      }
    });
    // The server may close while bytes are still on their way: the response already read counts.
    socket.on('error', (err) => finish(parse(received, request.method) ?? err));
    socket.on('close', () =>
      finish(parse(received, request.method) ?? new Error('connection closed')),
    );
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const response = parse(received, request.method);
      if (response !== undefined) {
        finish(response);
      }
    });
  });
}

/** The response in `bytes` once it is complete (by `Content-Length`, or none for a 204/HEAD). */
function parse(bytes: Buffer, method: string): RawResponse | undefined {
  const end = bytes.indexOf('\r\n\r\n');
  if (end === -1) {
    return undefined;
  }
  const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const body = bytes.subarray(end + 4);
  const status = Number(statusLine.split(' ')[1]);
  if (method === 'HEAD') {
    return { status, headers, body: '' };
  }
  if (headers['transfer-encoding'] === 'chunked') {
    return body.includes('0\r\n\r\n') ? { status, headers, body: dechunk(body) } : undefined;
  }
  const length = Number(headers['content-length'] ?? 0);
  if (body.length < length) {
    return undefined;
  }
  return { status, headers, body: body.subarray(0, length).toString('utf8') };
}

function dechunk(bytes: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    const size = Number.parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) {
      return Buffer.concat(parts).toString('utf8');
    }
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
