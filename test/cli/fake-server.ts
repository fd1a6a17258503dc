/**
 * An in-process stand-in for the loopfs API, enough of it for the CLI's tests: images stored as
 * chunk maps (all-zero chunks become holes, as on the server), loop-control, backing, status,
 * and device reads and writes. It is a `fetch` function, so no socket is opened; every request
 * is recorded so tests can assert what the CLI sent.
 */

import { createHash } from "node:crypto";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface FakeImage {
  name: string;
  size: number;
  chunkSize: number;
  chunks: Map<number, Buffer>;
}

interface FakeDevice {
  number: number;
  backing: null | { image: string; offset: number; sizelimit: number; readOnly: boolean };
}

export const TENANT = "t1";
export const TOKEN = "tenant-token";
export const OPERATOR_TOKEN = "operator-token";

const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

function problem(status: number, errno: string, detail: string): Response {
  return new Response(
    JSON.stringify({ type: "about:blank", title: errno, status, errno, detail }),
    {
      status,
      headers: { "content-type": "application/problem+json" },
    },
  );
}

const json = (value: unknown, status = 200) => Response.json(value, { status });

export function createFakeServer() {
  const images = new Map<string, FakeImage>();
  const devices = new Map<number, FakeDevice>();
  const requests: RecordedRequest[] = [];
  /** Injected failures: the first request each one matches gets its status instead. */
  const faults: { match: (r: RecordedRequest) => boolean; status: number }[] = [];

  function readImage(image: FakeImage, offset: number, length: number): Buffer {
    const out = Buffer.alloc(length);
    for (const [index, chunk] of image.chunks) {
      const start = index * image.chunkSize;
      const from = Math.max(start, offset);
      const to = Math.min(start + chunk.length, offset + length);
      if (from < to) chunk.copy(out, from - offset, from - start, to - start);
    }
    return out;
  }

  function writeImage(image: FakeImage, offset: number, bytes: Buffer) {
    const first = Math.floor(offset / image.chunkSize);
    const last = Math.floor((offset + bytes.length - 1) / image.chunkSize);
    for (let index = first; index <= last; index++) {
      const start = index * image.chunkSize;
      const length = Math.min(image.chunkSize, image.size - start);
      const chunk = readImage(image, start, length);
      const from = Math.max(start, offset);
      const to = Math.min(start + length, offset + bytes.length);
      bytes.copy(chunk, from - start, from - offset, to - offset);
      if (chunk.every((b) => b === 0)) image.chunks.delete(index);
      else image.chunks.set(index, chunk);
    }
  }

  function imageJson(image: FakeImage) {
    const attached = [...devices.values()]
      .filter((d) => d.backing?.image === image.name)
      .map((d) => `loop${d.number}`);
    const storedBytes = [...image.chunks.values()].reduce((n, c) => n + c.length, 0);
    return {
      name: image.name,
      size: image.size,
      chunkSize: image.chunkSize,
      storedBytes,
      attached,
    };
  }

  function deviceSize(device: FakeDevice) {
    const b = device.backing!;
    const image = images.get(b.image)!;
    let size = Math.max(0, image.size - b.offset);
    if (b.sizelimit) size = Math.min(size, b.sizelimit);
    return size - (size % 512);
  }

  function status(device: FakeDevice) {
    const b = device.backing;
    return {
      name: `loop${device.number}`,
      number: device.number,
      image: b?.image ?? null,
      offset: b?.offset ?? 0,
      sizelimit: b?.sizelimit ?? 0,
      size: b ? deviceSize(device) : 0,
      readOnly: b?.readOnly ?? false,
      autoclear: false,
      partscan: false,
      blockSize: 512,
    };
  }

  function rangeOf(header: string | undefined, size: number): [number, number] | null {
    const m = /^bytes=(\d+)-(\d*)$/.exec(header ?? "");
    if (!m) return null;
    const start = Number(m[1]);
    const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
    return [start, end - start + 1];
  }

  function contentRange(header: string | undefined): number | null {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header ?? "");
    return m ? Number(m[1]) : null;
  }

  async function handle(request: RecordedRequest, url: URL): Promise<Response> {
    const auth = request.headers.authorization;
    const m = /^\/v1\/tenants\/([^/]+)(?:\/(.*))?$/.exec(url.pathname);
    if (!m) return problem(404, "ENOENT", "no such route");
    const rest = m[2] ?? "";
    if (rest === "") {
      if (auth !== `Bearer ${OPERATOR_TOKEN}`) return problem(403, "EACCES", "operator only");
      if (request.method === "PUT") return json({ tenant: m[1], max: 8, token: TOKEN }, 201);
      if (request.method === "DELETE") return new Response(null, { status: 204 });
    }
    if (auth !== `Bearer ${TOKEN}`) return problem(401, "EUNAUTH", "bad token");
    const body = () => JSON.parse(request.body?.toString() ?? "{}");
    const [kind, name, sub] = rest.split("/").map(decodeURIComponent);

    if (kind === "images" && !name) {
      if (request.method === "GET") return json({ images: [...images.values()].map(imageJson) });
      const { name: n, size, chunkSize = 65536 } = body();
      if (images.has(n)) return problem(409, "EEXIST", `image ${n} exists`);
      const image = { name: n, size, chunkSize, chunks: new Map() };
      images.set(n, image);
      return json(imageJson(image), 201);
    }
    if (kind === "images") {
      const image = images.get(name);
      if (!image) return problem(404, "ENOENT", `image ${name} not found`);
      if (sub === "chunks") {
        const from = Number(url.searchParams.get("from"));
        const count = Number(url.searchParams.get("count"));
        const chunks = [...image.chunks]
          .filter(([i]) => i >= from && i < from + count)
          .sort(([a], [b]) => a - b)
          .map(([index, c]) => ({ index, sha256: sha(c) }));
        return json({ chunkSize: image.chunkSize, chunks });
      }
      if (sub === "extents") {
        const extents: { offset: number; length: number; kind: string }[] = [];
        for (let at = 0; at < image.size; at += image.chunkSize) {
          const length = Math.min(image.chunkSize, image.size - at);
          const kind = image.chunks.has(at / image.chunkSize) ? "data" : "hole";
          const last = extents[extents.length - 1];
          if (last?.kind === kind) last.length += length;
          else extents.push({ offset: at, length, kind });
        }
        return json({ size: image.size, chunkSize: image.chunkSize, extents });
      }
      if (request.method === "PUT") {
        const offset = contentRange(request.headers["content-range"]);
        if (offset === null) return problem(400, "EINVAL", "bad Content-Range");
        writeImage(image, offset, request.body!);
        return new Response(null, { status: 204 });
      }
      if (request.method === "GET") {
        const r = rangeOf(request.headers.range, image.size);
        if (!r) return new Response(readImage(image, 0, image.size));
        return new Response(readImage(image, r[0], r[1]), { status: 206 });
      }
    }

    if (kind === "loop-control") {
      const { op, number } = body();
      if (op === "get-free") {
        let n = 0;
        while (devices.get(n)?.backing) n++;
        if (!devices.has(n)) devices.set(n, { number: n, backing: null });
        return json({ device: `loop${n}`, number: n });
      }
      if (op === "add") {
        if (devices.has(number)) return problem(409, "EEXIST", `loop${number} exists`);
        devices.set(number, { number, backing: null });
        return json({ device: `loop${number}`, number }, 201);
      }
    }
    if (kind === "devices" && !name) {
      const loopdevices = [...devices.values()]
        .filter((d) => d.backing)
        .map((d) => ({
          name: `loop${d.number}`,
          sizelimit: d.backing!.sizelimit,
          offset: d.backing!.offset,
          autoclear: false,
          ro: d.backing!.readOnly,
          "back-file": d.backing!.image,
          dio: false,
          "log-sec": 512,
          size: deviceSize(d),
        }));
      return json({ loopdevices });
    }
    if (kind === "devices") {
      const device = devices.get(Number(name.replace("loop", "")));
      if (!device) return problem(404, "ENODEV", `${name} does not exist`);
      if (sub === "backing" && request.method === "PUT") {
        if (device.backing) return problem(409, "EBUSY", `${name} is bound`);
        const b = body();
        if (!images.has(b.image)) return problem(404, "ENOENT", `image ${b.image} not found`);
        device.backing = {
          image: b.image,
          offset: b.offset,
          sizelimit: b.sizelimit,
          readOnly: b.readOnly,
        };
        return json(status(device));
      }
      if (sub === "backing" && request.method === "DELETE") {
        if (!device.backing) return problem(409, "ENXIO", `${name} is not bound`);
        device.backing = null;
        return new Response(null, { status: 204 });
      }
      if (sub === "status") return json(status(device));
      if (!device.backing) return problem(409, "ENXIO", `${name} is not bound`);
      const image = images.get(device.backing.image)!;
      const size = deviceSize(device);
      if (request.method === "GET") {
        const r = rangeOf(request.headers.range, size) ?? [0, size];
        const contentRange = `bytes ${r[0]}-${r[0] + r[1] - 1}/${size}`;
        return new Response(readImage(image, device.backing.offset + r[0], r[1]), {
          status: 206,
          headers: { "content-range": contentRange },
        });
      }
      if (request.method === "PUT") {
        if (device.backing.readOnly) return problem(409, "EROFS", `${name} is read-only`);
        const offset = contentRange(request.headers["content-range"])!;
        if (offset + request.body!.length > size) return problem(416, "ERANGE", "past the end");
        writeImage(image, device.backing.offset + offset, request.body!);
        return new Response(null, { status: 204 });
      }
    }
    return problem(404, "ENOENT", `no route ${request.method} ${url.pathname}`);
  }

  const fetch = async (input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const headers = Object.fromEntries(
      Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [
        k.toLowerCase(),
        v,
      ]),
    );
    const body =
      init.body === undefined || init.body === null
        ? undefined
        : Buffer.from(init.body as string | Uint8Array);
    const request = {
      method: init.method ?? "GET",
      path: url.pathname + url.search,
      headers,
      body,
    };
    requests.push(request);
    const fault = faults.findIndex((f) => f.match(request));
    if (fault >= 0) {
      const [{ status }] = faults.splice(fault, 1);
      return problem(status, "EIO", `injected ${status}`);
    }
    return handle(request, url);
  };

  return { fetch, images, devices, requests, faults, readImage };
}

/** A writable that keeps what it is given, for stdout and stderr in tests. */
export function capture(isTTY = false) {
  const parts: Buffer[] = [];
  return {
    isTTY,
    write(chunk: string | Uint8Array, callback?: (err?: Error) => void) {
      parts.push(Buffer.from(chunk));
      callback?.();
      return true;
    },
    bytes: () => Buffer.concat(parts),
    text: () => Buffer.concat(parts).toString(),
  };
}

/** Runs the CLI in-process against a fake server, with the tenant's credentials set. */
export async function runCli(
  fake: ReturnType<typeof createFakeServer>,
  argv: string[],
  env: Record<string, string> = {},
) {
  const { main } = await import("../../cli/main.js");
  const stdout = capture();
  const stderr = capture();
  const code = await main(argv, {
    env: {
      LOOPFS_URL: "http://127.0.0.1:9",
      LOOPFS_TENANT: TENANT,
      LOOPFS_TOKEN: TOKEN,
      LOOPFS_OPERATOR_TOKEN: OPERATOR_TOKEN,
      ...env,
    },
    stdout,
    stderr,
    fetch: fake.fetch as typeof fetch,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text(), bytes: stdout.bytes() };
}
