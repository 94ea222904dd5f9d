/**
 * The second scanning thread: filters and reads the files of the scan's list ahead of the main
 * thread. It runs at the lowest priority: on a busy machine the main thread, which matches, and
 * the engine's compiler threads come first, and the main thread reads for itself whatever this
 * thread has not reached (lib/scan-read-ahead.ts).
 */
import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { readAheadAsWorker, type WorkerRequest } from "./scan-read-ahead.ts";

declare const self: Worker;

/** Linux keeps a nice value per thread, named by its id in /proc/thread-self; elsewhere nothing changes. */
function lowerThreadPriority(): void {
  try {
    const threadId = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, 19);
  } catch {
    // Not Linux, or no /proc: the thread keeps the process's priority.
  }
}

lowerThreadPriority();

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  readAheadAsWorker(event.data);
};
