/**
 * The HTTP client for the loopfs API: authentication, problem-JSON errors, retries.
 *
 * Every call reads its whole answer (JSON, bytes or nothing) inside the retry loop, so a
 * connection that drops half-way through a body is retried like one that never connected.
 * Bodies are at most one piece (8 MiB), which keeps that affordable.
 */

import { CliError, errnoForStatus } from "./errors.js";

/** Attempts per call for idempotent requests, the first one included. */
export const MAX_TRIES = 5;
/** First backoff delay; it doubles on each retry up to BACKOFF_CAP_MS. */
const BACKOFF_BASE_MS = 250;
const BACKOFF_CAP_MS = 8000;
/** Statuses that say "try again later" rather than "this request is wrong". */
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);
/** Methods that may be sent twice without changing the outcome (RFC 9110, 9.2.2). */
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE"]);

const USER_AGENT = "loopfs-cli/0.1";

/**
 * @typedef {object} ClientConfig
 * @property {string} url          base URL of the Worker, without trailing slash
 * @property {string} [tenant]
 * @property {string} [token]      tenant token
 * @property {string} [operatorToken]
 *
 * @typedef {object} CallOptions
 * @property {"tenant" | "operator" | "none"} [auth]  which token to send (default tenant)
 * @property {unknown} [json]        request body, sent as JSON
 * @property {Uint8Array} [body]     raw request body
 * @property {Record<string, string>} [headers]
 * @property {"json" | "bytes" | "none"} [expect]  how to read the answer (default json)
 * @property {boolean} [retry]       retry 5xx and network failures (default: idempotent methods)
 * @property {(attempt: number, err: CliError) => void} [onRetry]
 */

/**
 * @param {ClientConfig} config
 * @param {{ fetch?: typeof fetch, sleep?: (ms: number) => Promise<void>, maxTries?: number }} [deps]
 */
export function createClient(config, deps = {}) {
  const doFetch = deps.fetch ?? globalThis.fetch;
  const sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  const maxTries = deps.maxTries ?? MAX_TRIES;

  /** Path of a tenant route; the tenant is required from here on. */
  function tenantPath(...segments) {
    if (!config.tenant) {
      throw new CliError("EUSAGE", "no tenant: set LOOPFS_TENANT or pass --tenant");
    }
    const parts = [config.tenant, ...segments].map((s) => encodeURIComponent(String(s)));
    return `/v1/tenants/${parts.join("/")}`;
  }

  function authorization(auth) {
    if (auth === "none") return undefined;
    const token = auth === "operator" ? config.operatorToken : config.token;
    if (!token) {
      const hint =
        auth === "operator"
          ? "no operator token: set LOOPFS_OPERATOR_TOKEN or pass --operator-token"
          : "no tenant token: set LOOPFS_TOKEN or pass --token";
      throw new CliError("EUNAUTH", hint);
    }
    return `Bearer ${token}`;
  }

  /**
   * One attempt: send, then read the answer as asked.
   * @returns {Promise<{ value: unknown, response: Response }>}
   */
  async function attempt(method, path, options) {
    const headers = { "user-agent": USER_AGENT, ...options.headers };
    const auth = authorization(options.auth ?? "tenant");
    if (auth) headers.authorization = auth;
    let body = options.body;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    }

    let response;
    try {
      response = await doFetch(`${config.url}${path}`, { method, headers, body });
    } catch (err) {
      throw networkError(config.url, err);
    }
    if (!response.ok) throw await problemError(response);

    try {
      const expect = options.expect ?? "json";
      if (expect === "none" || method === "HEAD") {
        await response.body?.cancel();
        return { value: undefined, response };
      }
      if (expect === "bytes") {
        return { value: Buffer.from(await response.arrayBuffer()), response };
      }
      const text = await response.text();
      return { value: text ? JSON.parse(text) : null, response };
    } catch (err) {
      if (err instanceof SyntaxError) {
        throw new CliError("EPROTO", `server sent invalid JSON for ${method} ${path}`);
      }
      throw networkError(config.url, err);
    }
  }

  /**
   * Sends a request and returns the answer read as `expect` says, retrying what may be retried.
   * @param {string} method
   * @param {string} path
   * @param {CallOptions} [options]
   */
  async function call(method, path, options = {}) {
    return (await callWithResponse(method, path, options)).value;
  }

  /** Like `call`, also giving the Response (headers such as Content-Range). */
  async function callWithResponse(method, path, options = {}) {
    const retry = options.retry ?? IDEMPOTENT.has(method);
    for (let tries = 1; ; tries++) {
      try {
        return await attempt(method, path, options);
      } catch (err) {
        if (!retry || tries >= maxTries || !isRetryable(err)) throw err;
        options.onRetry?.(tries, err);
        await sleep(backoffDelay(tries, err.extra.retryAfterMs));
      }
    }
  }

  return { config, tenantPath, call, callWithResponse };
}

/**
 * Delay before retry number `tries` (1-based): exponential with jitter, or what the server
 * asked for in Retry-After, both capped.
 * @param {number} tries
 * @param {number} [retryAfterMs]
 */
export function backoffDelay(tries, retryAfterMs) {
  if (retryAfterMs !== undefined) return Math.min(retryAfterMs, BACKOFF_CAP_MS);
  const ceiling = Math.min(BACKOFF_BASE_MS * 2 ** (tries - 1), BACKOFF_CAP_MS);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** @param {unknown} err */
export function isRetryable(err) {
  return err instanceof CliError && err.extra.retryable === true;
}

/**
 * Turns a failed answer into a CliError, using the problem JSON when there is one.
 * @param {Response} response
 */
export async function problemError(response) {
  const status = response.status;
  let problem = {};
  const text = await response.text().catch(() => "");
  if (/json/.test(response.headers.get("content-type") ?? "")) {
    try {
      problem = JSON.parse(text) ?? {};
    } catch {
      problem = {};
    }
  }
  const errno = typeof problem.errno === "string" ? problem.errno : errnoForStatus(status);
  const detail = problem.detail ?? problem.title ?? (text.trim().slice(0, 200) || `HTTP ${status}`);
  const retryAfter = Number(response.headers.get("retry-after"));
  return new CliError(errno, String(detail), {
    status,
    title: problem.title,
    extra: {
      ...problem,
      retryable: RETRYABLE_STATUS.has(status),
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    },
  });
}

function networkError(url, err) {
  const cause = err?.cause;
  const reason = cause?.code ?? cause?.message ?? err?.message ?? String(err);
  return new CliError("EIO", `cannot reach ${url}: ${reason}`, { extra: { retryable: true } });
}
