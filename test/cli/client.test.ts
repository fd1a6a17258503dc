import { describe, expect, it } from "vitest";
import { backoffDelay, createClient } from "../../cli/client.js";

/** A fetch that answers from a list, one answer per call, recording the calls. */
function scripted(answers: Array<Response | Error>) {
  const calls: { url: string; method: string; headers: Record<string, string> }[] = [];
  const fetch = async (url: string, init: RequestInit) => {
    calls.push({ url, method: init.method!, headers: init.headers as Record<string, string> });
    const next = answers.shift();
    if (!next) throw new Error("no more answers");
    if (next instanceof Error) throw next;
    return next;
  };
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

const config = { url: "http://127.0.0.1:9", tenant: "t", token: "tok", operatorToken: "op" };
const noSleep = async () => {};
const problem = (status: number, body: object) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/problem+json" },
  });
const refused = () =>
  Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });

describe("client", () => {
  it("sends the tenant token as a bearer and the operator token on operator calls", async () => {
    const { fetch, calls } = scripted([Response.json({}), Response.json({})]);
    const client = createClient(config, { fetch, sleep: noSleep });
    await client.call("GET", client.tenantPath("images"));
    await client.call("PATCH", "/v1/tenants/t", { auth: "operator", json: { max: 2 } });
    expect(calls[0].url).toBe("http://127.0.0.1:9/v1/tenants/t/images");
    expect(calls[0].headers.authorization).toBe("Bearer tok");
    expect(calls[1].headers.authorization).toBe("Bearer op");
    expect(calls[1].headers["content-type"]).toBe("application/json");
  });

  it("encodes path segments so a name cannot climb out of its tenant", () => {
    const client = createClient({ ...config, tenant: "a/b" });
    expect(client.tenantPath("images", "../x y")).toBe("/v1/tenants/a%2Fb/images/..%2Fx%20y");
  });

  it("retries a GET after 503 and a refused connection, then answers", async () => {
    const { fetch, calls } = scripted([
      problem(503, { errno: "EAGAIN", detail: "busy" }),
      refused(),
      Response.json({ images: [] }),
    ]);
    const retries: string[] = [];
    const client = createClient(config, { fetch, sleep: noSleep });
    const answer = await client.call("GET", "/x", {
      onRetry: (n: number, err: Error) => retries.push(`${n}: ${err.message}`),
    });
    expect(answer).toEqual({ images: [] });
    expect(calls).toHaveLength(3);
    expect(retries).toEqual(["1: busy", "2: cannot reach http://127.0.0.1:9: ECONNREFUSED"]);
  });

  it("gives up after five tries with the last error", async () => {
    const answers = Array.from({ length: 6 }, () => problem(500, { errno: "EIO", detail: "down" }));
    const { fetch, calls } = scripted(answers);
    const client = createClient(config, { fetch, sleep: noSleep });
    await expect(client.call("PUT", "/x", { body: new Uint8Array(1) })).rejects.toMatchObject({
      errno: "EIO",
      status: 500,
      message: "down",
    });
    expect(calls).toHaveLength(5);
  });

  it("does not retry a POST, nor a client error", async () => {
    const first = scripted([problem(503, { errno: "EAGAIN", detail: "busy" })]);
    const client = createClient(config, { fetch: first.fetch, sleep: noSleep });
    await expect(client.call("POST", "/x", { json: {} })).rejects.toMatchObject({
      errno: "EAGAIN",
    });
    expect(first.calls).toHaveLength(1);

    const second = scripted([problem(409, { errno: "EBUSY", detail: "bound" })]);
    const client2 = createClient(config, { fetch: second.fetch, sleep: noSleep });
    await expect(client2.call("GET", "/x")).rejects.toMatchObject({ errno: "EBUSY", status: 409 });
    expect(second.calls).toHaveLength(1);
  });

  it("names an errno from the status when the answer is not problem JSON", async () => {
    const { fetch } = scripted([new Response("nope", { status: 404 })]);
    const client = createClient(config, { fetch, sleep: noSleep });
    await expect(client.call("GET", "/x")).rejects.toMatchObject({
      errno: "ENOENT",
      message: "nope",
    });
  });

  it("waits as long as Retry-After says, capped", () => {
    expect(backoffDelay(1, 2000)).toBe(2000);
    expect(backoffDelay(1, 60_000)).toBe(8000);
    const first = backoffDelay(1);
    expect(first).toBeGreaterThanOrEqual(125);
    expect(first).toBeLessThanOrEqual(250);
    expect(backoffDelay(10)).toBeLessThanOrEqual(8000);
  });
});
