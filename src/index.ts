/**
 * The loopfs Worker: authenticates, routes each tenant to its Durable Object, and moves bytes
 * between clients and R2. One structured log line per request.
 */
import { Hono } from "hono";
import { LoopError } from "./errors";
import { onError, problemResponse } from "./http/problem";
import type { AppEnv } from "./routes/context";
import { devices } from "./routes/devices";
import { images } from "./routes/images";
import { tenants } from "./routes/tenants";

export { TenantObject } from "./tenant/object";

const app = new Hono<AppEnv>({ strict: true });

app.use(async (c, next) => {
  const started = Date.now();
  await next();
  const url = new URL(c.req.url);
  console.log(
    JSON.stringify({
      method: c.req.method,
      path: url.pathname,
      status: c.res.status,
      bytes: Number(c.res.headers.get("Content-Length") ?? 0),
      ms: Date.now() - started,
    }),
  );
});

app.route("/v1/tenants/:tenant", tenants);
app.route("/v1/tenants/:tenant/devices", devices);
app.route("/v1/tenants/:tenant/images", images);

app.notFound((c) =>
  problemResponse(new LoopError("ENOENT", "no such route"), new URL(c.req.url).pathname),
);
app.onError(onError);

export default app;
