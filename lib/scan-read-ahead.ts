/**
 * Reading ahead on a second thread: the worker filters the paths of a scan's list and reads the
 * files, in order, into a ring of shared slots; the main thread decodes and matches them. Matching
 * is most of a scan's work and is done once, on one thread, so the engine compiles the matchers
 * once; the system calls of reading run beside it.
 *
 * The list is shared through a cursor: whoever claims a position filters and reads that file. The
 * main thread claims a position itself whenever the worker has not claimed it yet (before the
 * worker has started, or if it falls behind), so it never waits on the worker's start-up; it waits
 * only for a file the worker is reading, and meanwhile reads a few unclaimed ones. A worker that
 * fails stops claiming, and the main thread reads the rest. Each thread wakes the other only when that one waits for exactly this step (a wake-up is a
 * system call): the worker, once the ring is full, waits until half of it is free.
 */
import { isAscii } from "node:buffer";
import {
  type ByteReadResult,
  createByteReader,
  createPathFilter,
  createReader,
  type PathVerdict,
  type ReadResult,
  type SkipReason,
} from "./scan-files.ts";

/** Enough slots that neither thread waits for the other often. */
const SLOTS = 64;
/** A slot holds a file of up to this many bytes; a larger one is read again by the main thread. */
const MAX_SLOT_BYTES = 256 * 1024;

// Control words.
/** The next position to claim. */
const CURSOR = 0;
const WORKER_STATE = 1;
/** Positions the main thread is done with: a slot is free once its last position is. */
const CONSUMED = 2;
/** The `CONSUMED` count the worker waits for, or -1. */
const WORKER_WANTS = 3;
/** The position the main thread waits for, or -1. */
const MAIN_WANTS = 4;
const SLOT_FULL = 5; // then SLOTS flags: the slot holds its position's file
const SLOT_LENGTH = SLOT_FULL + SLOTS; // then SLOTS lengths (or a negative code)
const SLOT_ASCII = SLOT_LENGTH + SLOTS; // then SLOTS flags: the bytes are ASCII
const CONTROL_WORDS = SLOT_ASCII + SLOTS;

const PENDING = 0;
const STARTED = 1;
const STOPPED = 2;

/** Why a slot holds no text: a skip reason, or "read it yourself" (too large for a slot). */
const SKIP_CODES: readonly SkipReason[] = [
  "generated",
  "binary",
  "too-large",
  "symlink",
  "outside-root",
  "special",
  "unreadable",
];
const READ_HERE = -1000;
/** Not read: the path filter's verdict (see `createPathFilter`). */
const IGNORED = -2000;
const EXCLUDED = -2001;

/** How many files the main thread reads ahead for itself while it waits for the worker. */
const MAX_READ_EARLY = 16;
/** How long one wait lasts before the waiter looks at the other thread's state again. */
const WAIT_MS = 50;

export type ReadAhead = {
  control: SharedArrayBuffer;
  data: SharedArrayBuffer;
  slotBytes: number;
};

export function createReadAhead(maxFileBytes: number): ReadAhead {
  const slotBytes = Math.min(maxFileBytes, MAX_SLOT_BYTES);
  const control = new SharedArrayBuffer(CONTROL_WORDS * 4);
  const words = new Int32Array(control);
  words[WORKER_WANTS] = -1;
  words[MAIN_WANTS] = -1;
  return { control, data: new SharedArrayBuffer(slotBytes * SLOTS), slotBytes };
}

/**
 * The worker's side: claims positions of `paths`, filters each and reads it into its slot, until the
 * list ends or the main thread stops it. Returns the number of positions it filled.
 */
export function readAhead(
  ahead: ReadAhead,
  paths: readonly string[],
  filter: (path: string) => PathVerdict,
  readBytes: (path: string) => ByteReadResult,
): number {
  const control = new Int32Array(ahead.control);
  const data = new Uint8Array(ahead.data);
  if (Atomics.compareExchange(control, WORKER_STATE, PENDING, STARTED) !== PENDING) return 0;
  let count = 0;
  try {
    for (;;) {
      const position = Atomics.load(control, CURSOR);
      if (position >= paths.length || Atomics.load(control, WORKER_STATE) !== STARTED) break;
      if (Atomics.compareExchange(control, CURSOR, position, position + 1) !== position) continue;
      // The slot is free once the main thread is past the position SLOTS back; when it is not,
      // wait until half the ring is free.
      if (Atomics.load(control, CONSUMED) < position - SLOTS + 1) {
        if (!waitForConsumed(control, position - SLOTS / 2 + 1)) break;
      }
      const slot = position % SLOTS;
      const path = paths[position] as string;
      const verdict = filter(path);
      const read: ByteReadResult | undefined = verdict === "read" ? readBytes(path) : undefined;
      let length: number;
      if (read === undefined) {
        length = verdict === "ignored" ? IGNORED : EXCLUDED;
      } else if ("skip" in read) {
        length = -1 - SKIP_CODES.indexOf(read.skip);
      } else if (read.length > ahead.slotBytes) {
        length = READ_HERE;
      } else {
        const bytes = read.bytes.subarray(0, read.length);
        data.set(bytes, slot * ahead.slotBytes);
        length = read.length;
        // ASCII decodes as Latin-1, faster (and from shared memory much faster) than as UTF-8.
        Atomics.store(control, SLOT_ASCII + slot, isAscii(bytes) ? 1 : 0);
      }
      Atomics.store(control, SLOT_LENGTH + slot, length);
      Atomics.store(control, SLOT_FULL + slot, 1);
      if (Atomics.load(control, MAIN_WANTS) === position) Atomics.notify(control, SLOT_FULL + slot);
      count++;
    }
  } finally {
    stop(control);
  }
  return count;
}

/**
 * Waits until the main thread has consumed `target` positions; false once it stopped the worker.
 * The waiter says what it waits for before it looks again (atomics are sequentially consistent,
 * so progress made after that look is either seen or notified).
 */
function waitForConsumed(control: Int32Array, target: number): boolean {
  Atomics.store(control, WORKER_WANTS, target);
  try {
    for (;;) {
      const consumed = Atomics.load(control, CONSUMED);
      if (consumed >= target) return true;
      if (Atomics.load(control, WORKER_STATE) !== STARTED) return false;
      Atomics.wait(control, CONSUMED, consumed, WAIT_MS);
    }
  } finally {
    Atomics.store(control, WORKER_WANTS, -1);
  }
}

function stop(control: Int32Array): void {
  Atomics.store(control, WORKER_STATE, STOPPED);
  Atomics.notify(control, CONSUMED);
  for (let slot = 0; slot < SLOTS; slot++) Atomics.notify(control, SLOT_FULL + slot);
}

/** A position's outcome: the file read, or the path filter's reason to pass over it. */
export type ReadOutcome = ReadResult | { filtered: "ignored" | "excluded" };

/**
 * The main thread's side: `read(position)` gives the outcome at each position, in order from 0,
 * from its slot or worked out here.
 */
export function createReadAheadConsumer(
  ahead: ReadAhead,
  paths: readonly string[],
  settings: Pick<WorkerRequest, "root" | "maxFileBytes" | "ignore" | "exclude">,
): ReadAheadConsumer {
  const control = new Int32Array(ahead.control);
  const counts = { fromWorker: 0, here: 0 };
  const text = Buffer.from(ahead.data);
  const filter = createPathFilter(settings);
  const readFile = createReader(settings.root, settings.maxFileBytes);
  const readHere = (position: number): ReadOutcome => {
    counts.here++;
    const path = paths[position] as string;
    const verdict = filter(path);
    return verdict === "read" ? readFile(path) : { filtered: verdict };
  };
  // Positions this thread worked out itself while it waited for the worker (a few: each holds a
  // whole file).
  const readEarly = new Map<number, ReadOutcome>();
  const readNextUnclaimed = (): boolean => {
    if (readEarly.size >= MAX_READ_EARLY) return false;
    const next = Atomics.load(control, CURSOR);
    if (next >= paths.length || Atomics.compareExchange(control, CURSOR, next, next + 1) !== next)
      return false;
    readEarly.set(next, readHere(next));
    return true;
  };
  const take = (position: number): ReadOutcome => {
    const early = readEarly.get(position);
    if (early) {
      readEarly.delete(position);
      return early;
    }
    // Claim the position unless the worker already has.
    if (
      Atomics.load(control, CURSOR) <= position &&
      Atomics.compareExchange(control, CURSOR, position, position + 1) === position
    ) {
      return readHere(position);
    }
    const slot = position % SLOTS;
    if (!waitForSlot(control, slot, position, readNextUnclaimed)) return readHere(position);
    const length = Atomics.load(control, SLOT_LENGTH + slot);
    Atomics.store(control, SLOT_FULL + slot, 0);
    counts.fromWorker++;
    if (length >= 0) {
      const start = slot * ahead.slotBytes;
      const encoding = Atomics.load(control, SLOT_ASCII + slot) === 1 ? "latin1" : "utf8";
      return { text: text.toString(encoding, start, start + length) };
    }
    if (length === IGNORED) return { filtered: "ignored" };
    if (length === EXCLUDED) return { filtered: "excluded" };
    if (length === READ_HERE) return readFile(paths[position] as string);
    return { skip: SKIP_CODES[-1 - length] as SkipReason };
  };
  const read = (position: number): ReadOutcome => {
    const result = take(position);
    Atomics.store(control, CONSUMED, position + 1);
    if (Atomics.load(control, WORKER_WANTS) === position + 1) Atomics.notify(control, CONSUMED);
    return result;
  };
  return { read, finish: () => stop(control), counts };
}

export type ReadAheadConsumer = {
  read: (position: number) => ReadOutcome;
  /** Stops the worker; a worker that never started never will. */
  finish: () => void;
  /** Positions taken from the worker's slots, and worked out on this thread. */
  counts: { fromWorker: number; here: number };
};

/** True once the worker has begun on the list (tests wait for it). */
export function hasWorkerStarted(ahead: ReadAhead): boolean {
  return Atomics.load(new Int32Array(ahead.control), WORKER_STATE) !== PENDING;
}

/**
 * Waits until the worker has filled the slot of `position`, which it claimed, doing `meanwhile`
 * (one step of other work, false when there is none) instead of sleeping while it can. False when
 * the worker stopped without filling it (it failed): the caller reads the file itself.
 */
function waitForSlot(control: Int32Array, slot: number, position: number, meanwhile: () => boolean): boolean {
  if (Atomics.load(control, SLOT_FULL + slot) === 1) return true;
  while (meanwhile()) {
    if (Atomics.load(control, SLOT_FULL + slot) === 1) return true;
  }
  Atomics.store(control, MAIN_WANTS, position);
  try {
    for (;;) {
      if (Atomics.load(control, SLOT_FULL + slot) === 1) return true;
      if (Atomics.load(control, WORKER_STATE) === STOPPED)
        return Atomics.load(control, SLOT_FULL + slot) === 1;
      Atomics.wait(control, SLOT_FULL + slot, 0, WAIT_MS);
    }
  } finally {
    Atomics.store(control, MAIN_WANTS, -1);
  }
}

/** What the worker thread is asked to do: filter and read `paths` (NUL-separated, a path never holds one) ahead. */
export type WorkerRequest = {
  ahead: ReadAhead;
  paths: string;
  root: string;
  maxFileBytes: number;
  /** The settings' `ignore` globs and the toolkit's own files (see `createPathFilter`). */
  ignore: readonly string[];
  exclude: readonly string[];
};

export function joinPaths(paths: readonly string[]): string {
  return paths.join("\0");
}

export function splitPaths(joined: string): string[] {
  return joined === "" ? [] : joined.split("\0");
}

/** The worker thread's part: filters and reads the files ahead of the main thread. */
export function readAheadAsWorker(request: WorkerRequest): number {
  return readAhead(
    request.ahead,
    splitPaths(request.paths),
    createPathFilter(request),
    createByteReader(request.root, request.maxFileBytes),
  );
}
