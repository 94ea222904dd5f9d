/** The second scanning thread: claims chunks of the shared list and posts its batch back. */
import { claimWorkerStart, createBatch, scanClaimed, type WorkerRequest } from "./scan-batch.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const { paths, counter, index, settings } = event.data;
  if (!claimWorkerStart(counter)) {
    self.postMessage(createBatch());
    return;
  }
  self.postMessage(scanClaimed(paths, counter, index, settings));
};
