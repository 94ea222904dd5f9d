/**
 * Reads bun test's output and prints "<passed> <failed>" for .ci/run's closing line.
 * A non-zero exit with no failure counted (a crash, a load error) counts as one failure.
 */
const [logPath, statusText] = process.argv.slice(2);
const log = await Bun.file(logPath ?? "")
  .text()
  .catch(() => "");
const count = (label: string) => {
  const matches = [...log.matchAll(new RegExp(`^\\s*(\\d+) ${label}$`, "gm"))];
  return matches.length > 0 ? Number(matches.at(-1)?.[1]) : 0;
};
const passed = count("pass");
let failed = count("fail");
if (Number(statusText) !== 0 && failed === 0) failed = 1;
if (passed === 0 && failed === 0) failed = 1;
console.log(`${passed} ${failed}`);
