/**
 * A read-ahead worker for tests that pauses before each file, so the main thread outruns it: it
 * waits for positions this thread claimed and reads others itself.
 */
import { createByteReader, createPathFilter } from "../../lib/scan-files.ts";
import { readAhead, splitPaths, type WorkerRequest } from "../../lib/scan-read-ahead.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<WorkerRequest & { pauseMs: number }>) => {
  const { pauseMs, ...request } = event.data;
  const readBytes = createByteReader(request.root, request.maxFileBytes);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  readAhead(request.ahead, splitPaths(request.paths), createPathFilter(request), (path) => {
    Atomics.wait(pause, 0, 0, pauseMs);
    return readBytes(path);
  });
};
