/** The second scanning thread: claims chunks of the shared list and posts its batch back. */
import { claimWorkerStart, emptyWorkerResult, scanAsWorker, type WorkerRequest } from "./scan-batch.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  if (!claimWorkerStart(event.data.counter)) {
    self.postMessage(emptyWorkerResult());
    return;
  }
  self.postMessage(scanAsWorker(event.data));
};
