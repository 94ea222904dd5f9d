/**
 * One error type per kind. Tasks catch them once at their boundary and print one line.
 * Anything else is a bug in the toolkit and keeps its stack.
 */

/** Bad flags or arguments, or a missing answer without a TTY. Exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A file cannot be read or written, or a path is refused. Exit code 2. */
export class IoError extends Error {
  override name = "IoError";
}

/** The toolkit's own configuration (not the registry's content) is unusable. Exit code 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export function isKnownError(error: unknown): error is UsageError | IoError | ConfigError {
  return error instanceof UsageError || error instanceof IoError || error instanceof ConfigError;
}

const SYSTEM_ERRORS = new Map<string, string>(
  Object.entries({
    ENOENT: "no such file or directory",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EISDIR: "is a directory",
    ENOTDIR: "not a directory",
    EEXIST: "a file is in the way",
    EROFS: "read-only file system",
    ENOSPC: "no space left on device",
    ELOOP: "too many symbolic links",
  }),
);

/** The reason of a platform error in words (`permission denied`), or its code when unknown. */
export function describeErrorCode(error: unknown): string | undefined {
  if (!error || typeof error !== "object" || !("code" in error) || typeof error.code !== "string") {
    return undefined;
  }
  return SYSTEM_ERRORS.get(error.code) ?? error.code;
}

/** A message for an unknown error thrown by the platform (ENOENT and friends) or a bug. */
export function describeSystemError(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const text = typeof code === "string" ? SYSTEM_ERRORS.get(code) : undefined;
  if (!text) return undefined;
  const path = (error as { path?: unknown }).path;
  return typeof path === "string" ? `${text}: ${path}` : text;
}
