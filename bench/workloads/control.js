/**
 * Control operations, one at a time: mount (the operator creating an instance), get-free,
 * attach and detach. Each is a Durable Object call and a SQLite transaction, no R2.
 */

import { mountTenant } from "../lib/loopfs.js";
import { percentile } from "../lib/stats.js";

async function timed(count, operation) {
  const latencies = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await operation(i);
    latencies.push(performance.now() - started);
  }
  const total = latencies.reduce((a, b) => a + b, 0);
  return {
    count,
    opsPerSecond: (count * 1000) / total,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

export async function runControl({ client, operatorToken, tenant, plan, log }) {
  const results = {};
  results.mount = await timed(plan.count, (i) =>
    mountTenant(client, operatorToken, `control-${i}`, 64),
  );
  results["get-free"] = await timed(plan.count, () => tenant.getFree());
  await tenant.createImage("control", 1 << 30);
  const { device } = await tenant.getFree();
  const attach = [];
  const detach = [];
  for (let i = 0; i < plan.count; i++) {
    let started = performance.now();
    await tenant.attach(device, "control");
    attach.push(performance.now() - started);
    started = performance.now();
    await tenant.detach(device);
    detach.push(performance.now() - started);
  }
  const summary = (latencies) => ({
    count: latencies.length,
    opsPerSecond: (latencies.length * 1000) / latencies.reduce((a, b) => a + b, 0),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  });
  results.attach = summary(attach);
  results.detach = summary(detach);
  for (const [name, r] of Object.entries(results)) {
    log(`control ${name}: ${r.opsPerSecond.toFixed(0)} ops/s, p50 ${r.p50.toFixed(2)} ms`);
  }
  return results;
}
