/** The loopfs calls the bench makes: mount a tenant, create and fill images, attach devices. */

import { open } from "node:fs/promises";
import { runConcurrently } from "./http.js";
import { MiB } from "./stats.js";

/** Bytes per partial PUT when filling an image, as the CLI's push sends them. */
export const FILL_PIECE = 8 * MiB;
const FILL_IN_FLIGHT = 2;
const FILL_TRIES = 5;

/**
 * Mounts `tenant` as the operator and answers a handle that speaks for it with its token.
 * @param {ReturnType<import("./http.js").httpClient>} client
 */
export async function mountTenant(client, operatorToken, tenant, max) {
  const answer = await client.json(
    "PUT",
    `/v1/tenants/${tenant}`,
    { max },
    {
      authorization: `Bearer ${operatorToken}`,
    },
  );
  return tenantHandle(client, tenant, answer.token);
}

export function tenantHandle(client, tenant, token) {
  const auth = { authorization: `Bearer ${token}` };
  const path = (...parts) => `/v1/tenants/${tenant}/${parts.join("/")}`;
  const json = (method, where, value) => client.json(method, where, value, auth);

  return {
    client,
    tenant,
    token,
    auth,
    path,
    createImage: (name, size, chunkSize) =>
      json("POST", path("images"), { name, size, ...(chunkSize ? { chunkSize } : {}) }),
    listImages: async () => (await json("GET", path("images"))).images,
    getFree: () => json("POST", path("loop-control"), { op: "get-free" }),
    attach: (device, image) => json("PUT", path("devices", device, "backing"), { image }),
    detach: (device) =>
      client.expectOk("DELETE", path("devices", device, "backing"), { headers: auth }),

    /** Writes `bytes` at `offset` of an image or device path with one partial PUT. */
    writeAt(target, offset, bytes, total) {
      return client
        .send("PUT", target, {
          headers: {
            ...auth,
            "content-type": "application/octet-stream",
            "content-range": `bytes ${offset}-${offset + bytes.length - 1}/${total}`,
          },
          body: bytes,
        })
        .then((answer) => {
          if (answer.status !== 204)
            throw new Error(`write ${target} at ${offset}: ${answer.status}`);
          return answer;
        });
    },

    /** A free device bound to `image`; answers its name. */
    async attachFree(image) {
      const { device } = await json("POST", path("loop-control"), { op: "get-free" });
      await json("PUT", path("devices", device, "backing"), { image });
      return device;
    },

    /** Creates `name` sparse with `chunkSize` and fills it from `file`, two pieces at a time. */
    async uploadFile(name, file, size, chunkSize) {
      await this.createImage(name, size, chunkSize);
      const handle = await open(file, "r");
      try {
        const count = Math.ceil(size / FILL_PIECE);
        await runConcurrently(count, FILL_IN_FLIGHT, async (i) => {
          const length = Math.min(FILL_PIECE, size - i * FILL_PIECE);
          const bytes = Buffer.alloc(length);
          await handle.read(bytes, 0, length, i * FILL_PIECE);
          // Setup, not a measurement: a write cut off by a workerd restart is sent again.
          for (let attempt = 1; ; attempt++) {
            try {
              await this.writeAt(path("images", name), i * FILL_PIECE, bytes, size);
              break;
            } catch (err) {
              if (attempt >= FILL_TRIES) throw err;
              process.stderr.write(
                `[bench] fill ${name} at ${i * FILL_PIECE}: ${err.message}; again\n`,
              );
              await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
            }
          }
        });
      } finally {
        await handle.close();
      }
    },
  };
}
