/** The second scanning thread: claims chunks of the shared list and posts its batch back. */
import { createPortIndex } from "./scan.ts";
import { claimWorkerStart, createBatch, scanClaimed, type WorkerRequest } from "./scan-batch.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  const { paths, counter, registry, settings } = event.data;
  if (!claimWorkerStart(counter)) {
    self.postMessage(createBatch());
    return;
  }
  self.postMessage(scanClaimed(paths, counter, createPortIndex(registry), settings));
};
