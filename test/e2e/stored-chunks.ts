/**
 * What the dev server's R2 emulation holds on disk, seen from outside the Worker: the object
 * keys of the chunk bucket, listed by a separate Miniflare opened on the same `--persist-to`
 * state, and the blob files that hold their bytes.
 */

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { Miniflare } from "miniflare";

/** The bucket in wrangler.toml. */
const BUCKET = "loopfs-chunks";

/** wrangler dev keeps every plugin's state under this folder of `--persist-to`. */
function persistRoot(persistTo: string): string {
  return join(persistTo, "v3");
}

/** Every key in the chunk bucket, in key order. */
export async function storedChunkKeys(persistTo: string): Promise<string[]> {
  const reader = new Miniflare({
    modules: true,
    script: "export default { fetch: () => new Response(null, { status: 204 }) }",
    r2Buckets: { CHUNKS: BUCKET },
    defaultPersistRoot: persistRoot(persistTo),
    host: "127.0.0.1",
    port: 0,
    cf: false,
  });
  try {
    const bucket = await reader.getR2Bucket("CHUNKS");
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const listing = await bucket.list({ cursor, limit: 1000 });
      keys.push(...listing.objects.map((object) => object.key));
      cursor = listing.truncated ? listing.cursor : undefined;
    } while (cursor);
    return keys;
  } finally {
    await reader.dispose();
  }
}

/** How many blob files hold object bytes for the chunk bucket. */
export async function storedBlobFiles(persistTo: string): Promise<number> {
  const blobs = join(persistRoot(persistTo), "r2", BUCKET, "blobs");
  return (await readdir(blobs).catch(() => [])).length;
}
