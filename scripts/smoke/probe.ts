/**
 * An HTTP probe the smoke test runs inside a container with `docker exec … bun -e <this file>`,
 * so the image needs no curl or wget. It must stay self-contained: no imports.
 *
 * Input: PROBE_URL, PROBE_TIMEOUT_MS (default 3000). Output: one JSON line, either
 * {"url","status","body"} (exit 0) or {"url","error"} with the error code, such as
 * ECONNREFUSED or ENOTFOUND (exit 1).
 */
const url = process.env.PROBE_URL ?? "";
const timeoutMs = Number(process.env.PROBE_TIMEOUT_MS ?? 3000);

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  process.stdout.write(`${JSON.stringify({ url, status: response.status, body })}\n`);
} catch (error) {
  const failure = error as { code?: string; name?: string };
  const code = failure.name === "TimeoutError" ? "ETIMEDOUT" : (failure.code ?? failure.name ?? "ERROR");
  process.stdout.write(
    `${JSON.stringify({ url, error: code === "ConnectionRefused" ? "ECONNREFUSED" : code })}\n`,
  );
  process.exitCode = 1;
}

export {};
