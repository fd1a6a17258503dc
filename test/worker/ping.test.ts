import { SELF } from "cloudflare:test";
import { expect, it } from "vitest";
it("pings", async () => {
  const r = await SELF.fetch("http://x/ping");
  expect(await r.json()).toEqual({ v: 5 });
});
