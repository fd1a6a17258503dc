/**
 * The loopfs Worker: authenticates, routes each tenant to its Durable Object, and moves bytes
 * between clients and R2. One structured log line per request.
 */
import { Hono } from "hono";
import type { Env } from "./env";
import { LoopError } from "./errors";
import { onError, problemResponse } from "./http/problem";
import type { AppEnv } from "./routes/context";
import { devices } from "./routes/devices";
import { images } from "./routes/images";
import { tenants } from "./routes/tenants";
import { meteredBucket, type R2Counts } from "./store/metered-bucket";

export { TenantObject } from "./tenant/object";

const app = new Hono<AppEnv>({ strict: true });

/** R2 operations of the request being served, keyed by its bucket (one per request). */
const r2Counts = new WeakMap<R2Bucket, R2Counts>();

/**
 * One log line per request: tenant, route, status, bytes, milliseconds, R2 operations. A
 * streamed body is logged when its last byte went out, so the R2 reads made while streaming count.
 */
app.use(async (c, next) => {
  const started = Date.now();
  await next();
  const url = new URL(c.req.url);
  const log = (bytes: number) =>
    console.log(
      JSON.stringify({
        tenant: url.pathname.split("/")[3],
        method: c.req.method,
        path: url.pathname,
        status: c.res.status,
        bytes,
        ms: Date.now() - started,
        r2: r2Counts.get(c.env.CHUNKS),
      }),
    );
  const sent = c.get("sent");
  if (sent) sent.then(log);
  else log(Number(c.res.headers.get("Content-Length") ?? 0));
});

app.route("/v1/tenants/:tenant", tenants);
app.route("/v1/tenants/:tenant/devices", devices);
app.route("/v1/tenants/:tenant/images", images);

app.notFound((c) =>
  problemResponse(new LoopError("ENOENT", "no such route"), new URL(c.req.url).pathname),
);
app.onError(onError);

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext) {
    const { bucket, counts } = meteredBucket(env.CHUNKS);
    r2Counts.set(bucket, counts);
    return app.fetch(request, { ...env, CHUNKS: bucket }, ctx);
  },
} satisfies ExportedHandler<Env>;
