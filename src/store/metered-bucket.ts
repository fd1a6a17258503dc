/**
 * An R2 bucket that counts the operations made through it, so each request's log line says what
 * it cost: R2 bills per operation, and that is what a user of loopfs pays for.
 */

export interface R2Counts {
  reads: number;
  writes: number;
  lists: number;
  deletes: number;
}

export function meteredBucket(bucket: R2Bucket): { bucket: R2Bucket; counts: R2Counts } {
  const counts: R2Counts = { reads: 0, writes: 0, lists: 0, deletes: 0 };
  const metered = {
    get: (...args: Parameters<R2Bucket["get"]>) => {
      counts.reads++;
      return bucket.get(...args);
    },
    head: (key: string) => {
      counts.reads++;
      return bucket.head(key);
    },
    put: (...args: Parameters<R2Bucket["put"]>) => {
      counts.writes++;
      return bucket.put(...args);
    },
    delete: (keys: string | string[]) => {
      counts.deletes += Array.isArray(keys) ? keys.length : 1;
      return bucket.delete(keys);
    },
    list: (options?: R2ListOptions) => {
      counts.lists++;
      return bucket.list(options);
    },
  };
  return { bucket: metered as unknown as R2Bucket, counts };
}
