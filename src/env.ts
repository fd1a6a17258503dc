import type { TenantObject } from "./tenant/object";

/** Bindings and variables of the Worker, as wrangler.toml and `.dev.vars` declare them. */
export interface Env {
  TENANTS: DurableObjectNamespace<TenantObject>;
  CHUNKS: R2Bucket;
  /** Secret: the operator's bearer token. */
  OPERATOR_TOKEN?: string;
  /** Seconds an unreferenced chunk waits before deletion, so readers that resolved it finish. */
  LOOPFS_GC_GRACE_SECONDS?: string;
  /** Seconds an upload may stay uncommitted before its chunks count as orphans. */
  LOOPFS_UPLOAD_TIMEOUT_SECONDS?: string;
}
