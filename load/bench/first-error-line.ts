// What a failed peer's row says: the line of its output that names the
// problem. The literal first line of stderr is often noise (a Node warning, or
// `node:internal/...` above a stack trace), so an error-looking line wins.

const NOISE = [
  /^\(node:\d+\) \[?\w*\]? ?\w*Warning\b/, // (node:123) ExperimentalWarning: ...
  /^\(node:\d+\) /,
  /^\(Use `node --trace-/,
  /^node:internal\//,
  /^\s+at /, // stack frames
  /^\s*\^+\s*$/, // the caret under a source line
  /^\s*throw\b/,
  /^Node\.js v\d/,
];

const ERROR_LIKE = [
  /^\s*(?:Uncaught )?(?:[A-Z]\w*)?Error\b(?: \[[\w-]+\])?:/, // TypeError: ..., Error [ERR_X]: ...
  /\bPIER_[A-Z0-9_]+\b/,
  /\[(?:emerg|alert|crit|error)\]/, // nginx
  /^\[ALERT\]|^\[ERR\]/i, // haproxy
  /^(?:error|fatal)\b[: ]/i,
];

/** The most telling line of a process's output, trimmed and cut to maxLength; '' when empty. */
export function firstErrorLine(output: string, maxLength = 200): string {
  const lines = output
    .split(/\r?\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line.trim() !== '');
  const errorLine = lines.find((line) => ERROR_LIKE.some((re) => re.test(line)));
  const chosen =
    errorLine ?? lines.find((line) => !NOISE.some((re) => re.test(line))) ?? lines[0] ?? '';
  const trimmed = chosen.trim();
  return trimmed.length > maxLength ? `${trimmed.slice(0, maxLength - 1)}…` : trimmed;
}
