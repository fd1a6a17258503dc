/**
 * The servers a bench run starts and stops itself: `wrangler dev` for loopfs and for the floor
 * Worker (each its own process, port and temporary state), and nginx as the plain file server.
 *
 * Each Worker logs one JSON line per request with the R2 operations it made; the meter here sums
 * them, so a workload's R2 cost is read from the server rather than guessed by the client.
 */

import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";

/** First runs bundle the Worker and boot workerd; later ones take a few seconds. */
const START_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 3000;
/** A workload's log lines are complete once none arrived for this long. */
const QUIET_MS = 300;
const SETTLE_LIMIT_MS = 10_000;

export const NGINX = "/usr/sbin/nginx";

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sums the `r2` counts of the request log lines a Worker prints. */
function createMeter() {
  const totals = { requests: 0, reads: 0, writes: 0, lists: 0, deletes: 0, serverMs: 0 };
  let lastLine = 0;
  return {
    line(text) {
      if (!text.startsWith("{")) return;
      let entry;
      try {
        entry = JSON.parse(text);
      } catch {
        return;
      }
      if (!entry.r2) return;
      lastLine = Date.now();
      totals.requests++;
      totals.serverMs += entry.ms ?? 0;
      for (const op of ["reads", "writes", "lists", "deletes"]) totals[op] += entry.r2[op] ?? 0;
    },
    mark: () => ({ ...totals }),
    /** Waits until the lines of the requests already answered have all been printed. */
    async settle() {
      const started = Date.now();
      await sleep(50);
      while (Date.now() - lastLine < QUIET_MS && Date.now() - started < SETTLE_LIMIT_MS) {
        await sleep(50);
      }
    },
    since(mark) {
      const delta = {};
      for (const key of Object.keys(totals)) delta[key] = totals[key] - mark[key];
      return delta;
    },
  };
}

/** Processes below `root` (children, grandchildren, ...), as {pid, comm, args}. */
function descendants(root) {
  const all = readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return { pid: Number(pid), ppid, comm, args };
      } catch {
        return null;
      }
    })
    .filter(Boolean);
  const found = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift();
    for (const p of all.filter((q) => q.ppid === parent)) {
      found.push(p);
      queue.push(p.pid);
    }
  }
  return found;
}

/**
 * Starts `wrangler dev` on 127.0.0.1. wrangler runs two workerd processes: a proxy that owns the
 * public port, and the one that runs the Worker and its Durable Objects; `workerdPid()` is the
 * second, whose memory is the Worker's.
 * @param {{ root: string, configs: string[], port: number, persistTo: string, vars?: Record<string, string> }} options
 */
export async function startWrangler({ root, configs, port, persistTo, vars = {} }) {
  const inspectorPort = await freePort();
  const args = [join(root, "node_modules/wrangler/bin/wrangler.js"), "dev"];
  for (const config of configs) args.push("-c", config);
  args.push("--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort));
  args.push("--persist-to", persistTo, "--show-interactive-dev-session=false");
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);

  // Run where the first config lives, so wrangler reads nothing of the checkout but that config.
  const child = spawn(process.execPath, args, {
    cwd: dirname(configs[0]),
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CI: "true",
      // Every wrangler dev on the machine shares one registry by default, and each change to it
      // (another dev server starting or stopping) restarts this one's workerd mid-request.
      WRANGLER_REGISTRY_PATH: `${persistTo}-registry`,
      WRANGLER_CI_DISABLE_CONFIG_WATCHING: "true",
    },
  });
  const meter = createMeter();
  let tail = "";
  const keep = (text) => (tail = (tail + text + "\n").slice(-20000));
  createInterface({ input: child.stdout }).on("line", (text) => {
    meter.line(text);
    if (!text.startsWith("{")) keep(text);
  });
  createInterface({ input: child.stderr }).on("line", keep);
  let exited = false;
  child.once("exit", () => (exited = true));

  const stop = async () => {
    const signal = (name) => {
      try {
        process.kill(-child.pid, name);
      } catch {
        // already gone
      }
    };
    signal("SIGTERM");
    for (let waited = 0; !exited && waited < STOP_GRACE_MS; waited += 100) await sleep(100);
    signal("SIGKILL");
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.body?.cancel();
      break;
    } catch {
      if (exited || Date.now() > deadline) {
        await stop();
        throw new Error(`wrangler dev ${configs.join(" ")} did not start:\n${tail}`);
      }
      await sleep(300);
    }
  }

  const workerdPid = () => {
    const workerds = descendants(child.pid).filter((p) => p.comm === "workerd");
    const runner = workerds.filter((p) => !p.args.some((a) => a.includes(`127.0.0.1:${port}`)));
    const chosen = runner.length ? runner : workerds;
    return chosen.length ? Math.max(...chosen.map((p) => p.pid)) : null;
  };
  await meter.settle();
  // A workerd that restarts under a workload spoils it; every restart is noted.
  const restarts = [];
  let lastPid = workerdPid();
  const watch = setInterval(() => {
    const pid = workerdPid();
    if (pid !== lastPid) restarts.push({ at: new Date().toISOString(), from: lastPid, to: pid });
    lastPid = pid;
  }, 250);
  watch.unref();
  const stopAll = async () => {
    clearInterval(watch);
    await stop();
  };
  return { url, port, meter, workerdPid, restarts, stop: stopAll, tail: () => tail };
}

/** True when nginx can be run here. */
export function nginxAvailable() {
  return existsSync(NGINX);
}

/**
 * Starts nginx in the foreground with a throw-away config serving `root` (Range comes built in).
 * One worker process: workerd serves the Worker from one thread too.
 */
export async function startNginx({ dir, root, port }) {
  mkdirSync(join(dir, "temp"), { recursive: true });
  const temp = (name) => `${name}_temp_path ${join(dir, "temp", name)};`;
  const config = join(dir, "nginx.conf");
  writeFileSync(
    config,
    `worker_processes 1;
daemon off;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} warn;
events { worker_connections 256; }
http {
  access_log off;
  ${["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map(temp).join("\n  ")}
  sendfile on;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / { }
  }
}
`,
  );
  const check = spawnSync(NGINX, ["-t", "-c", config, "-p", dir, "-e", join(dir, "error.log")]);
  if (check.status !== 0) throw new Error(`nginx -t failed: ${check.stderr}`);
  const child = spawn(NGINX, ["-c", config, "-p", dir, "-e", join(dir, "error.log")], {
    stdio: "ignore",
    detached: true,
  });
  let exited = false;
  child.once("exit", () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  for (let waited = 0; ; waited += 100) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      break;
    } catch {
      if (exited || waited > 10_000) throw new Error("nginx did not start");
      await sleep(100);
    }
  }
  const stop = async () => {
    try {
      process.kill(-child.pid, "SIGQUIT");
    } catch {
      return;
    }
    for (let waited = 0; !exited && waited < STOP_GRACE_MS; waited += 100) await sleep(100);
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  return { url, port, stop, pid: child.pid };
}
