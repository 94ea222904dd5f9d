/**
 * Task output through Bun's native writers. Touching `process.stdout` or `process.stderr` builds
 * Node's stream machinery, which costs a Bun process 15-20 ms of start-up: more than a whole
 * validate of the default registry.
 *
 * A reader that goes away early (`| head`) ends the output quietly, as for any Unix tool.
 */
export async function writeOut(text: string): Promise<void> {
  await writeTo(Bun.stdout, text);
}

export async function writeErr(text: string): Promise<void> {
  await writeTo(Bun.stderr, text);
}

async function writeTo(destination: typeof Bun.stdout, text: string): Promise<void> {
  if (text === "") return;
  try {
    await Bun.write(destination, text);
  } catch (error) {
    if ((error as { code?: string }).code !== "EPIPE") throw error;
  }
}
