/** Images: create sparse, upload whole or by range, download, list, resize, remove, map. */
import { Hono } from "hono";
import { LoopError } from "../errors";
import { checkU53, readBody } from "../http/body";
import { parseImage } from "../http/names";
import { uploadImage } from "../store/upload";
import { writeRange } from "../store/write";
import { checkChunkSize, DEFAULT_CHUNK_SIZE } from "../tenant/images";
import { acceptWrite, serveBytes } from "./bytes";
import { tenantRoute, type AppContext, type AppEnv } from "./context";

export const images = new Hono<AppEnv>();

function imageParam(c: AppContext): string {
  return parseImage(c.req.param("name") ?? "");
}

/** A whole number from the query string, or the fallback when absent. */
function queryNumber(c: AppContext, name: string, fallback: number): number {
  const text = c.req.query(name);
  if (text === undefined) return fallback;
  if (!/^[0-9]+$/.test(text)) throw new LoopError("EINVAL", `"${name}" must be a whole number`);
  return checkU53(name, Number(text));
}

images.get("/", async (c) => {
  const { stub, caller } = await tenantRoute(c);
  return c.json({ images: await stub.listImages(caller) });
});

images.post("/", async (c) => {
  const { stub, caller } = await tenantRoute(c);
  const body = await readBody(c.req.raw, {
    name: { type: "string", required: true },
    size: { type: "u53", required: true },
    chunkSize: { type: "u53" },
  });
  const chunkSize = checkChunkSize(body.chunkSize ?? DEFAULT_CHUNK_SIZE);
  const record = await stub.createImage(caller, parseImage(body.name!), body.size!, chunkSize);
  return c.json(record, 201);
});

images.on(["GET", "HEAD"], "/:name", (c) => serveBytes(c, { image: imageParam(c) }));

images.put("/:name", async (c) => {
  const name = imageParam(c);
  if (c.req.header("Content-Range") !== undefined) return acceptWrite(c, { image: name });
  const { stub, caller } = await tenantRoute(c);
  const body = c.req.raw.body;
  if (!body) throw new LoopError("EINVAL", "an upload needs a body");
  // Without a declared length, a body cut off between two pieces of a chunked transfer looks
  // like a complete one: a whole upload must say its length (large images go up in ranges).
  const declared = c.req.header("Content-Length");
  if (declared === undefined) {
    throw new LoopError(
      "EINVAL",
      "a whole upload needs Content-Length; send an image of unknown length in ranges",
    );
  }
  const record = await uploadImage({
    env: c.env,
    stub,
    caller,
    name,
    chunkSize: checkChunkSize(queryNumber(c, "chunkSize", DEFAULT_CHUNK_SIZE)),
    body,
    declaredLength: checkU53("Content-Length", Number(declared)),
  });
  return c.json(record, 201);
});

images.patch("/:name", async (c) => {
  const name = imageParam(c);
  const { stub, caller } = await tenantRoute(c);
  const body = await readBody(c.req.raw, { size: { type: "u53", required: true } });
  const size = body.size!;
  const current = await stub.imageInfo(caller, name);
  const tailEnd = Math.min(current.size, Math.ceil(size / current.chunkSize) * current.chunkSize);
  if (size < current.size && tailEnd > size) {
    // Bytes past the new end inside the last chunk must read as zeros if the image grows again.
    const target = { image: name };
    await writeRange({
      env: c.env,
      stub,
      caller,
      target,
      start: size,
      length: tailEnd - size,
      body: null,
    });
  }
  return c.json(await stub.resizeImage(caller, name, size));
});

images.delete("/:name", async (c) => {
  const name = imageParam(c);
  const { stub, caller } = await tenantRoute(c);
  await stub.deleteImage(caller, name);
  return c.body(null, 204);
});

images.get("/:name/extents", async (c) => {
  const name = imageParam(c);
  const { stub, caller } = await tenantRoute(c);
  const start = queryNumber(c, "offset", 0);
  const length = queryNumber(c, "length", Number.MAX_SAFE_INTEGER - start);
  return c.json(await stub.imageExtents(caller, name, start, length));
});

images.get("/:name/chunks", async (c) => {
  const name = imageParam(c);
  const { stub, caller } = await tenantRoute(c);
  const from = queryNumber(c, "from", 0);
  const count = queryNumber(c, "count", 1024);
  return c.json(await stub.imageChunks(caller, name, from, count));
});
