/**
 * Page cache: map pages of all images of one instance in a fixed number of slots.
 *
 * A slot is free, clean (same bytes as the page store) or dirty (changed since the last
 * takeDirty). Dirty slots are never evicted: the caller flushes them at the end of each commit.
 * Clean slots go least-recently-used first, from a list that holds exactly the clean slots.
 * A page the store never held is cached as a flag, not as 40 KiB of zeros, until it is written:
 * a walk over a huge sparse image then costs no memory traffic per page. A compare-and-swap
 * pins the pages it has checked until it has applied its updates, so a later miss in the same
 * batch cannot evict them.
 * Slots are found by (image, page) through a chained hash table.
 */
import {
  bucketMask,
  bucketsPtr,
  freeStackPtr,
  holesPagePtr,
  PAGE_BYTES,
  PAGE_MARK_BYTES,
  pagesPtr,
  slotCount,
  slotImagePtr,
  slotMarkEpochPtr,
  slotMarksPtr,
  slotNextPtr,
  slotPagePtr,
  slotPinPtr,
  slotHolesPtr,
  slotNewerPtr,
  slotOlderPtr,
  slotStatePtr,
} from "./layout";
import { loadPage, raise } from "./env";
import { decodePage, validEncoding } from "./page-codec";

export const RAISE_EAGAIN: i32 = 1;
export const RAISE_CORRUPT_PAGE: i32 = 2;
export const RAISE_DUPLICATE_CHUNK: i32 = 3;

export const SLOT_FREE: i32 = 0;
export const SLOT_CLEAN: i32 = 1;
export const SLOT_DIRTY: i32 = 2;

let freeTop: i32 = 0;
let usedSlots: i32 = 0;
let lruOldest: i32 = -1;
let lruNewest: i32 = -1;
let pinEpoch: u32 = 1;

export function slotPtr(slot: i32): usize {
  return pagesPtr + <usize>slot * PAGE_BYTES;
}
export function slotState(slot: i32): i32 {
  return load<i32>(slotStatePtr + ((<usize>slot) << 2));
}
function setSlotState(slot: i32, state: i32): void {
  store<i32>(slotStatePtr + ((<usize>slot) << 2), state);
}
export function slotImage(slot: i32): u64 {
  return load<u64>(slotImagePtr + ((<usize>slot) << 3));
}
export function slotPage(slot: i32): u64 {
  return load<u64>(slotPagePtr + ((<usize>slot) << 3));
}
function nextOf(slot: i32): i32 {
  return load<i32>(slotNextPtr + ((<usize>slot) << 2));
}
function setNext(slot: i32, next: i32): void {
  store<i32>(slotNextPtr + ((<usize>slot) << 2), next);
}

function olderOf(slot: i32): i32 {
  return load<i32>(slotOlderPtr + ((<usize>slot) << 2));
}
function newerOf(slot: i32): i32 {
  return load<i32>(slotNewerPtr + ((<usize>slot) << 2));
}
function setOlder(slot: i32, older: i32): void {
  store<i32>(slotOlderPtr + ((<usize>slot) << 2), older);
}
function setNewer(slot: i32, newer: i32): void {
  store<i32>(slotNewerPtr + ((<usize>slot) << 2), newer);
}

function lruRemove(slot: i32): void {
  const older = olderOf(slot);
  const newer = newerOf(slot);
  if (older >= 0) setNewer(older, newer);
  else lruOldest = newer;
  if (newer >= 0) setOlder(newer, older);
  else lruNewest = older;
}

function lruAppend(slot: i32): void {
  setOlder(slot, lruNewest);
  setNewer(slot, -1);
  if (lruNewest >= 0) setNewer(lruNewest, slot);
  else lruOldest = slot;
  lruNewest = slot;
}

function slotAllHoles(slot: i32): bool {
  return load<i32>(slotHolesPtr + ((<usize>slot) << 2)) != 0;
}

/** The page bytes to read for a slot (the shared holes page if it was never stored). */
export function readablePage(slot: i32): usize {
  return slotAllHoles(slot) ? holesPagePtr : slotPtr(slot);
}

function setAllHoles(slot: i32, holes: bool): void {
  store<i32>(slotHolesPtr + ((<usize>slot) << 2), holes ? 1 : 0);
}

function bucketOf(image: u64, page: u64): usize {
  let h = (image * 0x9e3779b97f4a7c15) ^ (page * 0xc2b2ae3d27d4eb4f);
  h ^= h >> 29;
  return bucketsPtr + ((<usize>((<u32>h) & bucketMask)) << 2);
}

export function cacheReset(): void {
  for (let s = 0; s < slotCount; s++) {
    store<i32>(freeStackPtr + ((<usize>s) << 2), slotCount - 1 - s);
    setSlotState(s, SLOT_FREE);
    store<u32>(slotPinPtr + ((<usize>s) << 2), 0);
  }
  memory.fill(bucketsPtr, 0xff, (<usize>bucketMask + 1) << 2);
  freeTop = slotCount;
  usedSlots = 0;
  lruOldest = -1;
  lruNewest = -1;
}

export function cachedPages(): i32 {
  return usedSlots;
}

/** Starts a new operation: releases the pins and batch marks of the previous one. */
export function beginOperation(): void {
  pinEpoch++;
}

/** Marks an entry of a pinned slot as touched in this operation; false if it already was. */
export function markEntry(slot: i32, index: u32): bool {
  const epochAt = slotMarkEpochPtr + ((<usize>slot) << 2);
  const marks = slotMarksPtr + <usize>slot * PAGE_MARK_BYTES;
  if (load<u32>(epochAt) != pinEpoch) {
    memory.fill(marks, 0, PAGE_MARK_BYTES);
    store<u32>(epochAt, pinEpoch);
  }
  const at = marks + (index >> 3);
  const bit: u32 = 1 << (index & 7);
  const byte: u32 = load<u8>(at);
  store<u8>(at, byte | bit);
  return (byte & bit) == 0;
}

export function findSlot(image: u64, page: u64): i32 {
  let slot = load<i32>(bucketOf(image, page));
  while (slot >= 0) {
    if (slotImage(slot) == image && slotPage(slot) == page) return slot;
    slot = nextOf(slot);
  }
  return -1;
}

function unlink(slot: i32): void {
  const head = bucketOf(slotImage(slot), slotPage(slot));
  let at = load<i32>(head);
  if (at == slot) {
    store<i32>(head, nextOf(slot));
    return;
  }
  while (nextOf(at) != slot) at = nextOf(at);
  setNext(at, nextOf(slot));
}

/** Frees a slot whatever its state (drop of an image, eviction). */
export function releaseSlot(slot: i32): void {
  if (slotState(slot) == SLOT_CLEAN) lruRemove(slot);
  unlink(slot);
  setSlotState(slot, SLOT_FREE);
  store<i32>(freeStackPtr + ((<usize>freeTop) << 2), slot);
  freeTop++;
  usedSlots--;
}

/** A free slot, else the least recently used clean unpinned slot, else -1. Changes nothing. */
function chooseSlot(): i32 {
  if (freeTop > 0) return load<i32>(freeStackPtr + ((<usize>(freeTop - 1)) << 2));
  let s = lruOldest;
  while (s >= 0 && load<u32>(slotPinPtr + ((<usize>s) << 2)) == pinEpoch) s = newerOf(s);
  return s;
}

/**
 * The slot holding (image, page), loading it through the page store on a miss. Raises EAGAIN
 * when every slot is dirty or pinned. `pin` keeps it resident until the operation ends.
 */
export function pageSlot(image: u64, page: u64, pin: bool): i32 {
  let slot = findSlot(image, page);
  if (slot < 0) {
    const victim = chooseSlot();
    if (victim < 0) {
      raise(RAISE_EAGAIN);
      unreachable();
    }
    const len = loadPage(<f64>image, <f64>page);
    if (len >= 0 && !validEncoding(len)) {
      raise(RAISE_CORRUPT_PAGE);
      unreachable();
    }

    if (slotState(victim) == SLOT_FREE) {
      freeTop--;
    } else {
      lruRemove(victim);
      unlink(victim);
      usedSlots--;
    }
    slot = victim;
    if (len >= 0) decodePage(slotPtr(slot), len);
    setAllHoles(slot, len < 0);
    store<u64>(slotImagePtr + ((<usize>slot) << 3), image);
    store<u64>(slotPagePtr + ((<usize>slot) << 3), page);
    setSlotState(slot, SLOT_CLEAN);
    const head = bucketOf(image, page);
    setNext(slot, load<i32>(head));
    store<i32>(head, slot);
    usedSlots++;
    lruAppend(slot);
  } else if (slotState(slot) == SLOT_CLEAN) {
    lruRemove(slot);
    lruAppend(slot);
  }
  if (pin) store<u32>(slotPinPtr + ((<usize>slot) << 2), pinEpoch);
  return slot;
}

/** Makes a cached page writable: fills a never-stored page with holes and marks it dirty. */
export function writableSlot(slot: i32): usize {
  const page = slotPtr(slot);
  if (slotAllHoles(slot)) {
    memory.fill(page, 0, PAGE_BYTES);
    setAllHoles(slot, false);
  }
  if (slotState(slot) == SLOT_CLEAN) {
    lruRemove(slot);
    setSlotState(slot, SLOT_DIRTY);
  }
  return page;
}

/** After takeDirty has handed the page to the store. */
export function markClean(slot: i32): void {
  if (slotState(slot) != SLOT_DIRTY) return;
  setSlotState(slot, SLOT_CLEAN);
  lruAppend(slot);
}

/** First dirty slot at or after `from`, or -1. */
export function nextDirtySlot(from: i32): i32 {
  for (let s = from; s < slotCount; s++) if (slotState(s) == SLOT_DIRTY) return s;
  return -1;
}

/** Forgets every cached page of an image, dirty or not. */
export function dropImage(image: u64): void {
  for (let s = 0; s < slotCount; s++) {
    if (slotState(s) != SLOT_FREE && slotImage(s) == image) releaseSlot(s);
  }
}
