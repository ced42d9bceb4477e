// Masks what must not reach a terminal or a log: the password in a URL.

/** `redis://:s3cret@host:6379` -> `redis://:***@host:6379`; values without a password are unchanged. */
export function maskSecret(value: string): string {
  if (URL.canParse(value)) {
    const url = new URL(value);
    if (url.password === '' && url.username === '') return value;
    // Replace in the original text: URL serialisation would normalise the rest.
    const scheme = value.indexOf('://');
    const at = value.lastIndexOf('@');
    if (scheme !== -1 && at > scheme) {
      const userinfo = value.slice(scheme + 3, at);
      const colon = userinfo.indexOf(':');
      const masked = colon === -1 ? '***' : `${userinfo.slice(0, colon)}:***`;
      return `${value.slice(0, scheme + 3)}${masked}${value.slice(at)}`;
    }
    return value;
  }
  // Not a URL: hide anything that looks like credentials before an `@`.
  const at = value.lastIndexOf('@');
  return at === -1 ? value : `***${value.slice(at)}`;
}
