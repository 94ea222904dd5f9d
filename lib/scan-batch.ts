/**
 * Scanning a list of files, on this thread or on two. Each file is read safely (see
 * `createReader`), skipped when generated, and matched; the results of both threads merge into one
 * batch. Two threads share the list through an atomic chunk counter, so the worker thread, which
 * starts late, simply takes fewer chunks.
 */
import { classifyPath, type Finding, isGeneratedSource } from "./scan.ts";
import { matchComposeDrift } from "./scan-compose.ts";
import { createReader, type ReadResult, type SkipReason } from "./scan-files.ts";
import { type PortIndex, scanSource } from "./scan-findings.ts";

export type BatchResult = {
  findings: Finding[];
  inline: number;
  filesScanned: number;
  skipped: Partial<Record<SkipReason, number>>;
};

export type BatchSettings = { root: string; minPort: number; maxFileBytes: number };

/** Below this many files a second thread costs more than it saves. */
export const PARALLEL_THRESHOLD = 400;
const CHUNK = 32;

export function createBatch(): BatchResult {
  return { findings: [], inline: 0, filesScanned: 0, skipped: {} };
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
  if (isGeneratedSource(result.text)) {
    batch.skipped.generated = (batch.skipped.generated ?? 0) + 1;
    return;
  }
  const fileKind = classifyPath(path);
  if (!fileKind) return;
  batch.filesScanned++;
  const drift = fileKind === "yaml" ? matchComposeDrift(result.text, index) : undefined;
  const scanned = scanSource({ file: path, text: result.text, fileKind, index, minPort, drift });
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

/** Claims chunks of `paths` through `counter` until none are left. */
export function scanClaimed(
  paths: readonly string[],
  counter: Int32Array,
  index: PortIndex,
  settings: BatchSettings,
): BatchResult {
  const batch = createBatch();
  const read = createReader(settings.root, settings.maxFileBytes);
  for (
    let start = Atomics.add(counter, NEXT, CHUNK);
    start < paths.length;
    start = Atomics.add(counter, NEXT, CHUNK)
  ) {
    const end = Math.min(paths.length, start + CHUNK);
    for (let position = start; position < end; position++) {
      const path = paths[position] as string;
      scanOne(batch, path, read(path), index, settings.minPort);
    }
  }
  return batch;
}

export function mergeBatches(into: BatchResult, from: BatchResult): BatchResult {
  for (const finding of from.findings) into.findings.push(finding);
  into.inline += from.inline;
  into.filesScanned += from.filesScanned;
  for (const [reason, count] of Object.entries(from.skipped) as [SkipReason, number][]) {
    into.skipped[reason] = (into.skipped[reason] ?? 0) + count;
  }
  return into;
}

export type WorkerRequest = {
  paths: string[];
  counter: Int32Array;
  index: PortIndex;
  settings: BatchSettings;
};

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
    worker.onmessage = (event: MessageEvent<BatchResult>) => resolve(event.data);
    worker.onerror = (event) => reject(new Error(`scan worker failed: ${event.message}`));
  });
  const request: WorkerRequest = { paths, counter, index, settings };
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
