// A request body the kernel can move from the client's socket to the
// backend's without it entering the process (gateway/native/splice.c).
// The listener's HTTP/1.1 engine offers it on a request it holds unread; the
// upstream connection claims it when its own socket is plain TCP. Anyone
// else who reads the body (a 'data' or 'readable' listener, resume) gets it
// as a stream, as before: the offer is then withdrawn.
//
//   engine: head with a large Content-Length ─> req[kBodySplice], reading held
//   upstream: claimSplice(length) ─> ready(buffered) ─> write head + buffered
//             ─> start(fd, done)
//   done(null): the body is complete on both sides; done(error): the
//     client's connection is not reused (how much of the body it sent is
//     not known), and error.side says which socket failed.

export const kBodySplice = Symbol('pier.http1.bodySplice');

/** Which end of a splice failed: the client's socket, the backend's, or neither (cancelled). */
export type SpliceSide = 'source' | 'destination' | 'cancelled';

export interface SpliceError extends Error {
  code: string;
  side: SpliceSide;
}

export interface ClaimedBody {
  /**
   * Calls back once the body's bytes read so far are all in `buffered`
   * (null: none) and the rest is only in the client's socket: at once, or
   * when the engine has parsed the read the head came in (a claim made
   * from inside the request handler comes before that). The caller writes
   * them, then calls start().
   */
  ready(callback: (buffered: Buffer | null) => void): void;
  /**
   * Moves the rest of the body into `destinationFd` (a socket with nothing
   * queued on it); done is called once, at once when nothing is left.
   */
  start(destinationFd: number, done: (error: SpliceError | null) => void): void;
  /** Stops the splice (or one not yet started); done, if started, follows with a 'cancelled' error. */
  cancel(): void;
  /** Bytes delivered so far, for stall checks. */
  moved(): number;
}

export interface BodySpliceSource {
  /**
   * The body, for a splice: undefined when it cannot be spliced any more
   * (it is being read), or its length is not `contentLength`.
   */
  claimSplice(contentLength: number): ClaimedBody | undefined;
}

/** The body's offer, if it has one and it can still be taken. */
export function claimBodySplice(body: object, contentLength: number): ClaimedBody | undefined {
  const source = (body as { [kBodySplice]?: BodySpliceSource })[kBodySplice];
  return source?.claimSplice(contentLength);
}
