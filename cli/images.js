/**
 * Image commands that are one request each: ls, create, resize, rm; and the look-ups push and
 * pull share (an image's description, its stored chunks, its extents).
 */

import { usageError } from "./errors.js";
import { formatBytes, parseSize } from "./sizes.js";
import { formatTable } from "./table.js";

/** @typedef {import("./losetup.js").Context} Context */
/**
 * @typedef {object} Image
 * @property {string} name
 * @property {number} size
 * @property {number} chunkSize
 * @property {number} [storedBytes]
 * @property {string[]} [attached]
 */

/** @param {Context["client"]} client @returns {Promise<Image[]>} */
export async function listImages(client) {
  const answer = await client.call("GET", client.tenantPath("images"));
  return answer?.images ?? [];
}

/**
 * The image's description from the list (GET on the image itself answers its bytes).
 * @param {Context["client"]} client
 * @param {string} name
 * @returns {Promise<Image | undefined>}
 */
export async function findImage(client, name) {
  return (await listImages(client)).find((image) => image.name === name);
}

/**
 * The SHA-256 of stored chunks `from` .. `from + count - 1`; holes are absent from the answer.
 * @param {Context["client"]} client
 * @param {string} name
 * @param {number} from
 * @param {number} count
 * @returns {Promise<Map<number, string>>}
 */
export async function storedChunks(client, name, from, count) {
  const path = `${client.tenantPath("images", name, "chunks")}?from=${from}&count=${count}`;
  const answer = await client.call("GET", path);
  return new Map((answer?.chunks ?? []).map((c) => [c.index, String(c.sha256).toLowerCase()]));
}

/**
 * Data and hole extents covering the image.
 * @param {Context["client"]} client
 * @param {string} name
 * @returns {Promise<{ offset: number, length: number, kind: string }[]>}
 */
export async function imageExtents(client, name) {
  const answer = await client.call("GET", client.tenantPath("images", name, "extents"));
  return answer?.extents ?? [];
}

/** An extent that reads as zeros and has nothing stored. */
export function isHoleExtent(extent) {
  return extent.kind === "hole" || extent.kind === "zero";
}

/**
 * Creates an image sparse (all holes).
 * @param {Context["client"]} client
 * @param {{ name: string, size: number, chunkSize?: number }} request
 * @returns {Promise<Image>}
 */
export function createImage(client, request) {
  return client.call("POST", client.tenantPath("images"), { json: request });
}

const IMAGE_COLUMNS = [
  { header: "NAME", value: (i) => i.name },
  { header: "SIZE", value: (i) => i.size, right: true },
  { header: "CHUNK", value: (i) => i.chunkSize, right: true },
  { header: "STORED", value: (i) => formatBytes(i.storedBytes ?? 0), right: true },
  { header: "ATTACHED", value: (i) => (i.attached ?? []).join(",") },
];

/** `loopfs image ls [--json]` */
export async function imageLs(ctx) {
  const answer = await ctx.client.call("GET", ctx.client.tenantPath("images"));
  const images = answer?.images ?? [];
  if (ctx.values.json) ctx.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  else if (images.length > 0) ctx.stdout.write(formatTable(IMAGE_COLUMNS, images));
  return 0;
}

/** `loopfs image create NAME --size N [--chunk-size N]` */
export async function imageCreate(ctx) {
  if (ctx.values.size === undefined) throw usageError("image create needs --size");
  const request = { name: ctx.operands[0], size: parseSize(ctx.values.size, "size") };
  if (ctx.values["chunk-size"] !== undefined) {
    request.chunkSize = parseSize(ctx.values["chunk-size"], "chunk size");
  }
  const image = await createImage(ctx.client, request);
  ctx.stdout.write(`${JSON.stringify(image, null, 2)}\n`);
  return 0;
}

/** `loopfs image resize NAME --size N` */
export async function imageResize(ctx) {
  if (ctx.values.size === undefined) throw usageError("image resize needs --size");
  const size = parseSize(ctx.values.size, "size");
  const path = ctx.client.tenantPath("images", ctx.operands[0]);
  const image = await ctx.client.call("PATCH", path, { json: { size }, retry: true });
  ctx.stdout.write(`${JSON.stringify(image, null, 2)}\n`);
  return 0;
}

/** `loopfs image rm NAME` */
export async function imageRm(ctx) {
  const path = ctx.client.tenantPath("images", ctx.operands[0]);
  await ctx.client.call("DELETE", path, { expect: "none" });
  return 0;
}
