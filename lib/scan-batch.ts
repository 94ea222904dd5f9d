/**
 * Scanning a list of files, on this thread or on two. Each file is filtered (type, exclusions,
 * ignore globs), read safely (see `createReader`), skipped when generated, and matched; the results
 * of both threads merge into one batch. Two threads share the list through an atomic chunk counter,
 * so the worker thread, which starts late, simply takes fewer chunks. Both threads filter the
 * chunks they claim, so the filtering is shared too.
 */

import { expectLongRun } from "./jit.ts";
import { classifyPath, type Finding, isGeneratedSource } from "./scan.ts";
import { matchComposeDrift } from "./scan-compose.ts";
import { createIgnoreFilter, createReader, type ReadResult, type SkipReason } from "./scan-files.ts";
import { type PortIndex, scanSource } from "./scan-findings.ts";

/** Why a file was not scanned: a read outcome, or an ignore glob of the settings. */
export type SkipCount = SkipReason | "ignored";

export type BatchResult = {
  findings: Finding[];
  inline: number;
  filesScanned: number;
  skipped: Partial<Record<SkipCount, number>>;
};

export type BatchSettings = {
  root: string;
  minPort: number;
  maxFileBytes: number;
  /** Globs of paths that are not scanned, counted as "ignored" (the settings' `ignore`). */
  ignore: readonly string[];
  /** Paths that are never scanned nor counted: the registry, the baseline and the settings file. */
  exclude: readonly string[];
};

/** Below this many files a second thread costs more than it saves. */
export const PARALLEL_THRESHOLD = 400;
const CHUNK = 32;

export function createBatch(): BatchResult {
  return { findings: [], inline: 0, filesScanned: 0, skipped: {} };
}

/**
 * The files a scan reads: a kind the scanner knows, not excluded, and not ignored (each ignored
 * file counted in `batch`).
 */
export function createPathFilter(
  settings: Pick<BatchSettings, "ignore" | "exclude">,
): (path: string, batch: BatchResult) => boolean {
  const excluded = new Set(settings.exclude);
  const isIgnored = createIgnoreFilter(settings.ignore);
  return (path, batch) => {
    if (!classifyPath(path) || excluded.has(path)) return false;
    if (isIgnored(path)) {
      batch.skipped.ignored = (batch.skipped.ignored ?? 0) + 1;
      return false;
    }
    return true;
  };
}

export function scanOne(
  batch: BatchResult,
  path: string,
  result: ReadResult,
  index: PortIndex,
  minPort: number,
): void {
  if ("skip" in result) {
    batch.skipped[result.skip] = (batch.skipped[result.skip] ?? 0) + 1;
    return;
  }
  // A byte-order mark is not a column: positions count from the first character after it.
  const text = result.text.charCodeAt(0) === 0xfeff ? result.text.slice(1) : result.text;
  if (isGeneratedSource(text)) {
    batch.skipped.generated = (batch.skipped.generated ?? 0) + 1;
    return;
  }
  const fileKind = classifyPath(path);
  if (!fileKind) return;
  batch.filesScanned++;
  const drift = fileKind === "yaml" ? matchComposeDrift(text, index) : undefined;
  const scanned = scanSource({ file: path, text, fileKind, index, minPort, drift });
  batch.inline += scanned.suppressed;
  for (const finding of scanned.findings) batch.findings.push(finding);
}

/** Slots of the shared counter: the next unclaimed index, and the worker's state. */
const NEXT = 0;
const WORKER_STATE = 1;
const PENDING = 0;
const STARTED = 1;
const CANCELLED = 2;

/** Called by the worker first: false when the main thread already finished without it. */
export function claimWorkerStart(counter: Int32Array): boolean {
  return Atomics.compareExchange(counter, WORKER_STATE, PENDING, STARTED) === PENDING;
}

/**
 * Claims chunks of `paths` through `counter` until none are left; `afterChunk` runs after each
 * (the worker serializes its findings there, while the other thread still scans).
 */
export function scanClaimed(
  paths: readonly string[],
  counter: Int32Array,
  index: PortIndex,
  settings: BatchSettings,
  afterChunk?: (batch: BatchResult) => void,
): BatchResult {
  const batch = createBatch();
  if (paths.length >= PARALLEL_THRESHOLD) expectLongRun();
  const accept = createPathFilter(settings);
  const read = createReader(settings.root, settings.maxFileBytes);
  for (
    let start = Atomics.add(counter, NEXT, CHUNK);
    start < paths.length;
    start = Atomics.add(counter, NEXT, CHUNK)
  ) {
    const end = Math.min(paths.length, start + CHUNK);
    for (let position = start; position < end; position++) {
      const path = paths[position] as string;
      if (accept(path, batch)) scanOne(batch, path, read(path), index, settings.minPort);
    }
    afterChunk?.(batch);
  }
  return batch;
}

export function mergeBatches(into: BatchResult, from: BatchResult): BatchResult {
  for (const finding of from.findings) into.findings.push(finding);
  into.inline += from.inline;
  into.filesScanned += from.filesScanned;
  for (const [reason, count] of Object.entries(from.skipped) as [SkipCount, number][]) {
    into.skipped[reason] = (into.skipped[reason] ?? 0) + count;
  }
  return into;
}

/** Paths travel as one NUL-separated string (a path never holds NUL): one copy, not 5,000 strings. */
export type WorkerRequest = {
  paths: string;
  counter: Int32Array;
  index: PortIndex;
  settings: BatchSettings;
};

/** The worker's batch, its findings as one JSON text written chunk by chunk while both threads scan. */
export type WorkerResult = Omit<BatchResult, "findings"> & { findingsJson: string };

export function joinPaths(paths: readonly string[]): string {
  return paths.join("\0");
}

export function splitPaths(joined: string): string[] {
  return joined === "" ? [] : joined.split("\0");
}

/** Scans as the worker thread: claims chunks and serializes its findings after each one. */
export function scanAsWorker(request: WorkerRequest): WorkerResult {
  const parts: string[] = [];
  const batch = scanClaimed(
    splitPaths(request.paths),
    request.counter,
    request.index,
    request.settings,
    (current) => {
      for (let at = parts.length; at < current.findings.length; at++) {
        parts.push(JSON.stringify(current.findings[at]));
      }
    },
  );
  return {
    inline: batch.inline,
    filesScanned: batch.filesScanned,
    skipped: batch.skipped,
    findingsJson: `[${parts.join(",")}]`,
  };
}

export function emptyWorkerResult(): WorkerResult {
  return { inline: 0, filesScanned: 0, skipped: {}, findingsJson: "[]" };
}

/**
 * Starts the worker thread early, so its start-up overlaps the registry load. Its imports are only
 * the matcher and the reader (no schema, no YAML parser).
 */
export function startScanWorker(): Worker {
  return new Worker(new URL("./scan-worker.ts", import.meta.url).href);
}

/**
 * Scans `paths` on this thread and, for long lists, on `worker` as well (which is terminated
 * either way). Without a worker, or for short lists, everything runs here.
 */
export async function scanPaths(
  paths: string[],
  index: PortIndex,
  settings: BatchSettings,
  worker?: Worker,
): Promise<BatchResult> {
  const counter = new Int32Array(new SharedArrayBuffer(8));
  if (!worker || paths.length < PARALLEL_THRESHOLD) {
    worker?.terminate();
    return scanClaimed(paths, counter, index, settings);
  }
  const fromWorker = new Promise<BatchResult>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WorkerResult>) => {
      const { findingsJson, ...counts } = event.data;
      resolve({ ...counts, findings: JSON.parse(findingsJson) as Finding[] });
    };
    worker.onerror = (event) => reject(new Error(`scan worker failed: ${event.message}`));
  });
  const request: WorkerRequest = { paths: joinPaths(paths), counter, index, settings };
  worker.postMessage(request);
  const local = scanClaimed(paths, counter, index, settings);
  try {
    // The worker never started: every chunk is done here, so do not wait for its start-up.
    if (Atomics.compareExchange(counter, WORKER_STATE, PENDING, CANCELLED) === PENDING) return local;
    return mergeBatches(local, await fromWorker);
  } finally {
    worker.terminate();
  }
}
