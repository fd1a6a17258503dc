/**
 * Scale: the Worker's memory (peak and current RSS of its workerd process) and 4 KiB read
 * latency as images grow to 1 TiB sparse, and as one instance binds 1, 64 and 1,024 devices.
 * Memory must not follow image size: block-map pages are cached with a bound.
 */

import { randomBytes } from "node:crypto";
import { combine, measured } from "../lib/measure.js";
import { percentile, seededRandom, GiB } from "../lib/stats.js";

async function read4k(tenant, device, offset) {
  const answer = await tenant.client.send("GET", tenant.path("devices", device), {
    headers: { ...tenant.auth, range: `bytes=${offset}-${offset + 4095}` },
  });
  if (answer.status !== 206 || answer.bytes !== 4096) {
    throw new Error(`read ${device} at ${offset} answered ${answer.status}`);
  }
  return answer.ms;
}

/** `count` reads, each at a random offset on a random device of `devices`. */
async function readAcross(tenant, devices, count, pickOffset) {
  const random = seededRandom(count + devices.length);
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const device = devices[Math.floor(random() * devices.length)];
    latencies.push(await read4k(tenant, device, pickOffset(random)));
  }
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    bytes: count * 4096,
  };
}

/** A sparse image of `size` with `chunks` chunks written, spread evenly over it. */
async function sparseImage(tenant, name, size, chunks) {
  const image = await tenant.createImage(name, size);
  const cs = image.chunkSize;
  const written = [];
  for (let k = 0; k < chunks; k++) {
    const offset = Math.floor((k * size) / chunks / cs) * cs;
    await tenant.writeAt(tenant.path("images", name), offset, randomBytes(cs), size);
    written.push(offset);
  }
  return { chunkSize: cs, written };
}

export async function runScale({ loopfsServer, plan, sourceImage, tenant, log }) {
  const system = { name: "loopfs", meter: loopfsServer.meter, pid: loopfsServer.workerdPid };
  const images = {};
  for (const size of plan.imageSizes) {
    const name = `scale-${size / GiB}g`;
    const { chunkSize, written } = await sparseImage(tenant, name, size, plan.chunksWritten);
    const device = await tenant.attachFree(name);
    // Half the reads land in written chunks (R2), half anywhere (holes, map pages all over).
    const pickOffset = (random) => {
      if (random() < 0.5) {
        const chunk = written[Math.floor(random() * written.length)];
        return chunk + Math.floor((random() * chunkSize) / 4096) * 4096;
      }
      return Math.floor((random() * size) / 4096) * 4096;
    };
    const result = await measured(system, () =>
      readAcross(tenant, [device], plan.reads, pickOffset),
    );
    images[`${size / GiB}GiB`] = combine([result], ["p50", "p99"]);
    log(
      `scale image ${size / GiB} GiB: 4k read p50 ${result.p50.toFixed(2)} ms, ` +
        `peak RSS ${(result.memory.peak / 2 ** 20).toFixed(0)} MiB`,
    );
  }

  const [image] = (await tenant.listImages()).filter((i) => i.name === sourceImage);
  const devices = [];
  const deviceSteps = {};
  for (const count of plan.deviceCounts) {
    const started = performance.now();
    const before = devices.length;
    while (devices.length < count) devices.push(await tenant.attachFree(sourceImage));
    const attachMs = (performance.now() - started) / Math.max(1, count - before);
    const pickOffset = (random) => Math.floor((random() * image.size) / 4096) * 4096;
    const result = await measured(system, () =>
      readAcross(tenant, devices, plan.reads, pickOffset),
    );
    deviceSteps[count] = { ...combine([result], ["p50", "p99"]), getFreeAndAttachMs: attachMs };
    log(
      `scale ${count} devices: 4k read p50 ${result.p50.toFixed(2)} ms, ` +
        `peak RSS ${(result.memory.peak / 2 ** 20).toFixed(0)} MiB`,
    );
  }
  return { images, devices: deviceSteps };
}
