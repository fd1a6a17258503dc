/**
 * `npm run bench`: measures loopfs under local emulation against the platform floor (a minimal
 * Worker reading one R2 object) and a plain file server (nginx), in one run on this machine.
 * Starts every server itself on 127.0.0.1, prints a table of medians and ratios, writes the same
 * figures to bench/results/bench.json, and stops everything it started.
 *
 * BENCH_QUICK=1 shrinks the workloads; BENCH_CHUNK_SIZES=65536,262144 picks the chunk sizes the
 * read and write workloads are repeated for; BENCH_REF=HEAD measures a committed revision instead
 * of the working tree.
 */

import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { httpClient } from "./lib/http.js";
import { writeRandomFile } from "./lib/files.js";
import { mountTenant } from "./lib/loopfs.js";
import { machine } from "./lib/machine.js";
import { benchPlan } from "./lib/plan.js";
import { freePort, nginxAvailable, startNginx, startWrangler } from "./lib/servers.js";
import { snapshotWorker } from "./lib/snapshot.js";
import { checkSameBytes } from "./lib/verify.js";
import { evaluateTargets, report } from "./report.js";
import { runControl } from "./workloads/control.js";
import { runIngest } from "./workloads/ingest.js";
import { runReads } from "./workloads/reads.js";
import { runScale } from "./workloads/scale.js";
import { runWrites } from "./workloads/writes.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH, "..");
const RESULTS = join(BENCH, "results", "bench.json");
/** A tenant with room for the 1,024-device scale step. */
const TENANT_MAX = 2048;

const log = (line) => process.stderr.write(`[bench ${elapsed()}] ${line}\n`);
const begun = Date.now();
const elapsed = () => `${((Date.now() - begun) / 1000).toFixed(0)}s`.padStart(5);

async function main() {
  const plan = benchPlan();
  const work = mkdtempSync(join(tmpdir(), "loopfs-bench-"));
  const stops = [];
  const tails = [];
  const servers = [];
  try {
    return await measureAll(plan, work, stops, tails, servers);
  } catch (err) {
    for (const tail of tails) log(`server output before the failure:\n${tail()}`);
    for (const server of servers) log(`workerd restarts: ${JSON.stringify(server.restarts)}`);
    throw err;
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
}

async function measureAll(plan, work, stops, tails, servers) {
  const www = join(work, "www");
  mkdirSync(www, { recursive: true });
  // nginx's worker runs as nobody: it must be able to reach the file.
  for (const dir of [work, www]) chmodSync(dir, 0o755);
  const imageFile = join(www, "image.raw");
  log(`writing a ${plan.read.size / 2 ** 20} MiB random image`);
  await writeRandomFile(imageFile, plan.read.size);

  const worker = snapshotWorker(ROOT, join(work, "worker"), process.env.BENCH_REF);
  log(`measuring the ${worker.source}`);
  const operatorToken = randomBytes(16).toString("hex");
  log("starting loopfs and the floor (wrangler dev, each on its own port and state)");
  const [loopfsServer, floorServer] = await Promise.all([
    startWrangler({
      root: ROOT,
      configs: [join(work, "worker", "wrangler.toml")],
      port: await freePort(),
      persistTo: join(work, "loopfs-state"),
      vars: { OPERATOR_TOKEN: operatorToken },
    }).then((s) => (stops.push(s.stop), tails.push(s.tail), servers.push(s), s)),
    startWrangler({
      root: ROOT,
      configs: [join(BENCH, "floor", "wrangler.toml")],
      port: await freePort(),
      persistTo: join(work, "floor-state"),
    }).then((s) => (stops.push(s.stop), tails.push(s.tail), servers.push(s), s)),
  ]);
  let nginx = null;
  if (nginxAvailable()) {
    nginx = await startNginx({ dir: join(work, "nginx"), root: www, port: await freePort() });
    stops.push(nginx.stop);
  } else {
    log("nginx is not installed (apt-get install nginx): skipping the file-server column");
  }

  const loopfsClient = httpClient(loopfsServer.url);
  const floorClient = httpClient(floorServer.url);
  const tenant = await mountTenant(loopfsClient, operatorToken, "bench", TENANT_MAX);
  const probe = await tenant.createImage("default-probe", 4096);
  const defaultChunkSize = probe.chunkSize;

  log("loading the same image into the floor and into loopfs at each chunk size");
  await floorClient.expectOk("PUT", "/objects/image", { body: readFileSync(imageFile) });
  const floor = {
    name: "floor",
    client: floorClient,
    path: "/objects/image",
    headers: {},
    meter: floorServer.meter,
    pid: floorServer.workerdPid,
    writeAt: (offset, bytes) =>
      floorClient.expectOk("PUT", `/objects/w-${offset}`, { body: bytes }),
  };
  const fileServer = nginx && {
    name: "nginx",
    client: httpClient(nginx.url),
    path: "/image.raw",
    headers: {},
  };
  const loopfsSystems = [];
  for (const chunkSize of plan.chunkSizes) {
    const swept = chunkSize === defaultChunkSize ? {} : sweptSizes(plan);
    const readSize = swept.readSize ?? plan.read.size;
    const writeSize = swept.writeSize ?? plan.write.size;
    await tenant.uploadFile(`seq-${chunkSize}`, imageFile, readSize, chunkSize);
    const device = await tenant.attachFree(`seq-${chunkSize}`);
    await tenant.createImage(`wr-${chunkSize}`, writeSize, chunkSize);
    const writeDevice = await tenant.attachFree(`wr-${chunkSize}`);
    const writePath = tenant.path("devices", writeDevice);
    loopfsSystems.push({
      ...swept,
      name: `loopfs@${chunkSize / 1024}K`,
      chunkSize,
      client: loopfsClient,
      path: tenant.path("devices", device),
      headers: tenant.auth,
      meter: loopfsServer.meter,
      pid: loopfsServer.workerdPid,
      writeAt: (offset, bytes) => tenant.writeAt(writePath, offset, bytes, writeSize),
    });
  }
  const readers = [floor, ...(fileServer ? [fileServer] : []), ...loopfsSystems];
  await checkSameBytes(readers, imageFile, plan.read.size);
  log("all systems serve the same bytes");

  const results = {
    machine: machine(),
    command: commandLine(),
    plan,
    defaultChunkSize,
    worker,
    servers: {
      loopfs: "wrangler dev (wrangler.toml), its own process",
      floor: "wrangler dev -c bench/floor/wrangler.toml, a second process with its own state",
      nginx: nginx ? "nginx, 1 worker process, sendfile" : "not installed",
    },
  };
  results.reads = await runReads(readers, plan.read, log);
  results.writes = await runWrites([floor, ...loopfsSystems], plan.write, log);
  const atDefault = loopfsSystems.find((s) => s.chunkSize === defaultChunkSize) ?? loopfsSystems[0];
  results.ingest = await runIngest({
    work,
    plan: plan.ingest,
    floor,
    tenant,
    loopfsServer,
    root: ROOT,
    log,
  });
  results.control = await runControl({
    client: loopfsClient,
    operatorToken,
    tenant,
    plan: plan.control,
    log,
  });
  results.scale = await runScale({
    client: loopfsClient,
    operatorToken,
    loopfsServer,
    plan: plan.scale,
    sourceImage: `seq-${atDefault.chunkSize}`,
    tenant,
    log,
  });
  results.machine.loadAfter = readFileSync("/proc/loadavg", "utf8").trim();

  results.targets = evaluateTargets(results);
  const text = report(results);
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + "\n");
  process.stdout.write(text);
  log(`figures written to ${RESULTS}`);
}

/** The smaller read and write sizes of a chunk size other than the default. */
function sweptSizes(plan) {
  return {
    readSize: plan.sweep.readSize,
    randomReads: plan.sweep.randomReads,
    writeSize: plan.sweep.writeSize,
    randomWrites: plan.sweep.randomWrites,
  };
}

function commandLine() {
  const env = ["BENCH_QUICK", "BENCH_CHUNK_SIZES", "BENCH_REF", "BENCH_INGEST_MIB"]
    .filter((name) => process.env[name] !== undefined)
    .map((name) => `${name}=${process.env[name]}`);
  return [...env, "npm run bench"].join(" ");
}

main().catch((err) => {
  log(`failed: ${err.stack ?? err}`);
  process.exitCode = 1;
});
