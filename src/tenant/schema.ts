/**
 * SQLite schema of one tenant instance. The Durable Object is the only writer.
 *
 *   meta         key/value: mount state, max, token hash, mount id, id counters, allocator state
 *   devices      one row per existing loop device; image_id NULL while unbound
 *   images       one row per image; state 'ready', or 'uploading' while a whole upload streams in
 *   map_pages    block map pages of each image, as the core serialises them; absent = all holes
 *   pending      ranges of chunk ids handed to writes in flight; expired ranges are orphans
 *   garbage      chunk objects no map references any more; deleted after a grace period
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value);
CREATE TABLE IF NOT EXISTS devices (
  number INTEGER PRIMARY KEY,
  image_id INTEGER,
  offset INTEGER NOT NULL DEFAULT 0,
  sizelimit INTEGER NOT NULL DEFAULT 0,
  size INTEGER NOT NULL DEFAULT 0,
  read_only INTEGER NOT NULL DEFAULT 0,
  autoclear INTEGER NOT NULL DEFAULT 0,
  lease_seconds INTEGER NOT NULL DEFAULT 300,
  lease_expires INTEGER NOT NULL DEFAULT 0,
  partscan INTEGER NOT NULL DEFAULT 0,
  block_size INTEGER NOT NULL DEFAULT 512,
  partitions TEXT
);
CREATE TABLE IF NOT EXISTS images (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  chunk_size INTEGER NOT NULL,
  stored_chunks INTEGER NOT NULL DEFAULT 0,
  generation INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'ready',
  expires INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS images_ready_name ON images (name) WHERE state = 'ready';
CREATE TABLE IF NOT EXISTS map_pages (
  image_id INTEGER NOT NULL,
  page INTEGER NOT NULL,
  body BLOB NOT NULL,
  PRIMARY KEY (image_id, page)
);
CREATE TABLE IF NOT EXISTS pending (
  first INTEGER PRIMARY KEY,
  count INTEGER NOT NULL,
  expires INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS garbage (chunk_id INTEGER PRIMARY KEY, delete_after INTEGER NOT NULL);
`;
