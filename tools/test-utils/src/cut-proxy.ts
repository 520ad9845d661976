/**
 * A TCP proxy that forwards bytes both ways between its clients and one server, and on request
 * cuts a connection between a request and its reply: the server has run the command, the client
 * never reads the answer. That is what a dropped connection does at the worst moment, made
 * repeatable: a client that sends a command again after reconnecting must not apply it twice.
 */
import net from "node:net";

/** A running proxy. */
export interface CutProxy {
  /** The port clients connect to (on 127.0.0.1). */
  readonly port: number;
  /**
   * Arms the proxy: the next request whose bytes contain `marker` reaches the server, and the
   * connection it came on is destroyed when the first reply bytes come back (they are dropped).
   * Resolves once that cut happened, or rejects after `ms`.
   */
  cutReplyTo(marker: string, ms?: number): Promise<void>;
  /** Closes the proxy and every connection through it. */
  close(): Promise<void>;
}

/** Starts a proxy on a free port of 127.0.0.1 in front of `127.0.0.1:targetPort`. */
export async function startCutProxy(targetPort: number): Promise<CutProxy> {
  const sockets = new Set<net.Socket>();
  let armed: { marker: Buffer; cut: () => void } | undefined;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    sockets.add(client).add(upstream);
    let cutting: (() => void) | undefined;
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("data", (chunk: Buffer) => {
      if (armed && chunk.includes(armed.marker)) {
        cutting = armed.cut;
        armed = undefined;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      if (cutting) {
        const done = cutting;
        cutting = undefined;
        end();
        done();
        return;
      }
      client.write(chunk);
    });
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cutReplyTo(marker, ms = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          armed = undefined;
          reject(new Error(`no request containing ${JSON.stringify(marker)} came within ${ms} ms`));
        }, ms);
        armed = {
          marker: Buffer.from(marker),
          cut: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
