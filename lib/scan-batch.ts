/**
 * Scanning a list of files. Each file is filtered (type, exclusions, ignore globs), read safely
 * (see `createByteReader`), skipped when generated, and matched. For a long list a worker thread
 * reads the files ahead while this thread matches them (lib/scan-read-ahead.ts).
 */

import { expectLongRun } from "./jit.ts";
import { classifyPath, type Finding, isGeneratedSource } from "./scan.ts";
import { matchComposeDrift } from "./scan-compose.ts";
import { createPathFilter, createReader, type ReadResult, type SkipReason } from "./scan-files.ts";
import { type PortIndex, scanSource } from "./scan-findings.ts";
import {
  createReadAhead,
  createReadAheadConsumer,
  joinPaths,
  type ReadAheadConsumer,
  type WorkerRequest,
} from "./scan-read-ahead.ts";

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

export function createBatch(): BatchResult {
  return { findings: [], inline: 0, filesScanned: 0, skipped: {} };
}

/** Counts a path the settings' `ignore` globs pass over. */
export function countIgnored(batch: BatchResult): void {
  batch.skipped.ignored = (batch.skipped.ignored ?? 0) + 1;
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

/**
 * Starts the worker thread early, so its start-up overlaps the listing and the registry load. Its
 * imports are only the reader and the path filter.
 */
export function startScanWorker(): Worker {
  return new Worker(new URL("./scan-worker.ts", import.meta.url).href);
}

/**
 * Scans `paths` on this thread; for long lists `worker` filters and reads the files ahead (it is
 * terminated either way). Without a worker, or for short lists, this thread does both.
 */
export function scanPaths(
  paths: readonly string[],
  index: PortIndex,
  settings: BatchSettings,
  worker?: Worker,
): BatchResult {
  const batch = createBatch();
  const { root, maxFileBytes, minPort } = settings;
  if (paths.length >= PARALLEL_THRESHOLD) expectLongRun();
  if (!worker || paths.length < PARALLEL_THRESHOLD) {
    worker?.terminate();
    const filter = createPathFilter(settings);
    const read = createReader(root, maxFileBytes);
    for (const path of paths) {
      const verdict = filter(path);
      if (verdict === "read") scanOne(batch, path, read(path), index, minPort);
      else if (verdict === "ignored") countIgnored(batch);
    }
    return batch;
  }
  const ahead = createReadAhead(maxFileBytes);
  const { ignore, exclude } = settings;
  const request: WorkerRequest = { ahead, paths: joinPaths(paths), root, maxFileBytes, ignore, exclude };
  worker.postMessage(request);
  let consumer: ReadAheadConsumer | undefined;
  try {
    consumer = createReadAheadConsumer(ahead, paths, request);
    for (let position = 0; position < paths.length; position++) {
      const outcome = consumer.read(position);
      if (!("filtered" in outcome)) scanOne(batch, paths[position] as string, outcome, index, minPort);
      else if (outcome.filtered === "ignored") countIgnored(batch);
    }
  } finally {
    consumer?.finish();
    worker.terminate();
  }
  return batch;
}
