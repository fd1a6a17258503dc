/**
 * Operator commands: mount (create), remount (set-max) and umount (rm) a tenant instance, and
 * the tenant's own view of its usage (info).
 */

import { usageError } from "./errors.js";
import { parseCount } from "./sizes.js";

/** @typedef {import("./losetup.js").Context} Context */

/** Path of one tenant, named on the command line rather than by LOOPFS_TENANT. */
function tenantRoot(tenant) {
  return `/v1/tenants/${encodeURIComponent(tenant)}`;
}

/**
 * `loopfs tenant create T [--max N]`: the token goes to stdout alone, so
 * `TOKEN=$(loopfs tenant create T)` works; the hint goes to stderr.
 * @param {Context} ctx
 */
export async function tenantCreate(ctx) {
  const tenant = ctx.operands[0];
  const body = ctx.values.max === undefined ? {} : { max: parseCount(ctx.values.max, "max") };
  const answer = await ctx.client.call("PUT", tenantRoot(tenant), {
    auth: "operator",
    json: body,
    // The token is shown once: a retried PUT after a lost answer would find the tenant existing.
    retry: false,
  });
  ctx.stdout.write(`${answer.token}\n`);
  ctx.stderr.write(
    `tenant ${answer.tenant ?? tenant} mounted (max ${answer.max}); the token is shown only once:\n` +
      `  export LOOPFS_TENANT=${tenant} LOOPFS_TOKEN=${answer.token}\n`,
  );
  return 0;
}

/** `loopfs tenant set-max T N`: remount with a new max. */
export async function tenantSetMax(ctx) {
  const [tenant, max] = ctx.operands;
  const answer = await ctx.client.call("PATCH", tenantRoot(tenant), {
    auth: "operator",
    json: { max: parseCount(max, "max") },
    retry: true,
  });
  ctx.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  return 0;
}

/** `loopfs tenant info [T]`: usage, with the tenant's own token. */
export async function tenantInfo(ctx) {
  const tenant = ctx.operands[0] ?? ctx.client.config.tenant;
  if (!tenant) throw usageError("tenant info needs a tenant: name it or set LOOPFS_TENANT");
  const answer = await ctx.client.call("GET", tenantRoot(tenant));
  ctx.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  return 0;
}

/** `loopfs tenant rm T`: umount; every device is detached and all data removed. */
export async function tenantRm(ctx) {
  await ctx.client.call("DELETE", tenantRoot(ctx.operands[0]), {
    auth: "operator",
    expect: "none",
  });
  return 0;
}
