import net from 'node:net';
import mysql from 'mysql2';

/** A fake database endpoint for fault tests, and how many TCP connections it accepted. */
export interface FaultServer {
  readonly port: number;
  accepted(): number;
  close(): Promise<void>;
}

/** A port nothing listens on: connecting fails at once with ECONNREFUSED. */
export async function refusedPort(): Promise<number> {
  const tmp = net.createServer();
  await new Promise<void>((resolve) => tmp.listen(0, '127.0.0.1', resolve));
  const port = (tmp.address() as net.AddressInfo).port;
  await new Promise((resolve) => tmp.close(resolve));
  return port;
}

/** Accepts TCP connections and never sends the MySQL greeting (mysql2 hits `connectTimeout`). */
export async function startStalledServer(): Promise<FaultServer> {
  let accepted = 0;
  const held = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    accepted++;
    held.add(socket);
    socket.on('close', () => held.delete(socket));
    socket.on('error', () => held.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => accepted,
    async close() {
      for (const socket of held) {
        socket.destroy();
      }
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface FakeConnection {
  serverHandshake(options: Record<string, unknown>): void;
  writeOk(): void;
  on(event: string, listener: (...args: unknown[]) => void): void;
  stream: net.Socket;
}

/**
 * A mysql2 fake server that completes the handshake, accepts session settings (plain `query`
 * commands such as `SET SESSION ...`), and then never answers a prepared statement: only the
 * statement timeout can end the wait. (From mysql2's "MySQL Server API" docs.)
 */
export async function startSilentMysqlServer(): Promise<FaultServer> {
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = mysql.createServer((raw) => {
    const conn = raw as unknown as FakeConnection;
    accepted++;
    sockets.add(conn.stream);
    conn.stream.on('close', () => sockets.delete(conn.stream));
    conn.serverHandshake({
      protocolVersion: 10,
      serverVersion: '8.0.0-fake',
      connectionId: accepted,
      statusFlags: 2,
      characterSet: 8,
      // SSL bit (0x800) off: this server cannot do TLS.
      capabilityFlags: 2181036031,
    });
    // A listener suppresses mysql2's default error reply, so these commands hang. mysql2's fake
    // server reports a text `SET ...` as 'stmt_prepare': answer those, so session setup works.
    conn.on('query', () => {});
    conn.on('stmt_prepare', (sql: unknown) => {
      if (typeof sql === 'string' && /^\s*SET\b/i.test(sql)) {
        conn.writeOk();
      }
    });
    conn.on('stmt_execute', () => {});
    conn.on('error', () => {});
  });
  // mysql2's Server wraps a net.Server and forwards listen's arguments to it.
  const inner = (server as unknown as { _server: net.Server })._server;
  await new Promise<void>((resolve) => inner.listen(0, '127.0.0.1', () => resolve()));
  const address = inner.address() as net.AddressInfo;
  return {
    port: address.port,
    accepted: () => accepted,
    async close() {
      for (const socket of sockets) {
        socket.destroy();
      }
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
