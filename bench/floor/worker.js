/**
 * The platform floor: `GET /objects/{key}` with one `Range: bytes=a-b` is one ranged R2 read
 * streamed straight back (with `?piece=N`, one ranged read per N bytes, for profiling);
 * `PUT /objects/{key}` is one R2 put of the body. No metadata, no Durable Object, no copying. loopfs is measured against this. Logs one JSON line per request
 * in the same shape as loopfs's, so the bench counts R2 operations the same way for both.
 */

const RANGE = /^bytes=(\d+)-(\d+)$/;

function logLine(request, status, r2) {
  const { pathname } = new URL(request.url);
  console.log(JSON.stringify({ method: request.method, path: pathname, status, r2 }));
}

async function read(request, env, key, r2) {
  const match = RANGE.exec(request.headers.get("Range") ?? "");
  const range = match
    ? { offset: Number(match[1]), length: Number(match[2]) - Number(match[1]) + 1 }
    : undefined;
  const piece = Number(new URL(request.url).searchParams.get("piece") ?? 0);
  if (piece && range) return readInPieces(env, key, range, piece, r2);
  r2.reads++;
  const object = await env.BUCKET.get(key, range ? { range } : {});
  if (!object) return new Response("no such object\n", { status: 404 });
  if (!range) {
    return new Response(object.body, { headers: { "Content-Length": String(object.size) } });
  }
  const last = range.offset + range.length - 1;
  return new Response(object.body, {
    status: 206,
    headers: {
      "Content-Length": String(range.length),
      "Content-Range": `bytes ${range.offset}-${last}/${object.size}`,
    },
  });
}

/** Pieces read ahead of the one being sent, as loopfs's read stream does. */
const AHEAD = 4;

/**
 * The same range as one ranged get per `piece` bytes, each read whole into memory, AHEAD in
 * flight: loopfs's R2 access pattern without its Durable Object. Tells what R2 itself costs per
 * chunk, apart from what loopfs adds.
 */
function readInPieces(env, key, range, piece, r2) {
  const end = range.offset + range.length;
  let next = range.offset;
  const ahead = [];
  const fetchNext = () => {
    if (next >= end) return;
    const length = Math.min(piece, end - next);
    r2.reads++;
    const bytes = env.BUCKET.get(key, { range: { offset: next, length } }).then(
      async (o) => new Uint8Array(await o.arrayBuffer()),
    );
    bytes.catch(() => {});
    ahead.push(bytes);
    next += length;
  };
  for (let i = 0; i < AHEAD; i++) fetchNext();
  const body = new ReadableStream(
    {
      async pull(controller) {
        const head = ahead.shift();
        if (!head) return controller.close();
        fetchNext();
        controller.enqueue(await head);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body.pipeThrough(new FixedLengthStream(range.length)), {
    status: 206,
    headers: { "Content-Length": String(range.length) },
  });
}

async function write(request, env, key, r2) {
  const length = Number(request.headers.get("Content-Length"));
  // R2 needs a body of known length.
  const body = request.body.pipeThrough(new FixedLengthStream(length));
  r2.writes++;
  await env.BUCKET.put(key, body);
  return new Response(null, { status: 204 });
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    const r2 = { reads: 0, writes: 0, lists: 0, deletes: 0 };
    let response;
    if (!pathname.startsWith("/objects/")) {
      response = new Response("floor\n");
    } else {
      const key = decodeURIComponent(pathname.slice("/objects/".length));
      if (request.method === "GET") response = await read(request, env, key, r2);
      else if (request.method === "PUT") response = await write(request, env, key, r2);
      else response = new Response(null, { status: 405 });
    }
    logLine(request, response.status, r2);
    return response;
  },
};
