/** The second scanning thread: filters and reads the files of the scan's list ahead of the main thread. */
import { readAheadAsWorker, type WorkerRequest } from "./scan-read-ahead.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  readAheadAsWorker(event.data);
};
