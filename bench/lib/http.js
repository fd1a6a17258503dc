/**
 * A small HTTP client for the bench: keep-alive connections to one server, every request timed
 * from send to last body byte, bodies counted (or kept when asked) rather than parsed.
 */

import http from "node:http";

/** Sockets kept open per server: enough for the 16-in-flight workloads. */
const MAX_SOCKETS = 32;

/**
 * @typedef {object} Sent
 * @property {number} status
 * @property {number} bytes   body bytes received
 * @property {number} ms      send to last byte
 * @property {Buffer} [body]  only with `keep: true`
 */

/** A client for one base URL (`http://127.0.0.1:PORT`). */
export function httpClient(base) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const origin = new URL(base);

  /**
   * @param {string} method
   * @param {string} path
   * @param {{ headers?: Record<string, string>, body?: Uint8Array | string, keep?: boolean }} [options]
   * @returns {Promise<Sent>}
   */
  function send(method, path, options = {}) {
    const body = options.body ?? null;
    const headers = { ...options.headers };
    if (body !== null) headers["content-length"] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const request = http.request(
        { agent, host: origin.hostname, port: origin.port, method, path, headers },
        (response) => {
          const kept = [];
          let bytes = 0;
          response.on("data", (piece) => {
            bytes += piece.length;
            if (options.keep) kept.push(piece);
          });
          response.on("error", reject);
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              bytes,
              ms: performance.now() - started,
              ...(options.keep ? { body: Buffer.concat(kept) } : {}),
            }),
          );
        },
      );
      request.on("error", reject);
      request.end(body ?? undefined);
    });
  }

  /** Like `send`, but a status outside 2xx is an error that shows the server's answer. */
  async function expectOk(method, path, options = {}) {
    const answer = await send(method, path, { ...options, keep: true });
    if (answer.status < 200 || answer.status > 299) {
      const text = answer.body?.toString("utf8").slice(0, 500);
      throw new Error(`${method} ${path} answered ${answer.status}: ${text}`);
    }
    return answer;
  }

  /** A JSON call; answers the parsed body (null when empty). */
  async function json(method, path, value, headers = {}) {
    const body = value === undefined ? undefined : JSON.stringify(value);
    const answer = await expectOk(method, path, {
      headers: { ...(body ? { "content-type": "application/json" } : {}), ...headers },
      body,
    });
    return answer.body?.length ? JSON.parse(answer.body.toString("utf8")) : null;
  }

  return { base, send, expectOk, json, close: () => agent.destroy() };
}

/**
 * Runs `work(i)` for i in [0, count) with at most `inFlight` running; answers the wall time.
 * @param {number} count
 * @param {number} inFlight
 * @param {(i: number) => Promise<void>} work
 */
export async function runConcurrently(count, inFlight, work) {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return performance.now() - started;
}
