// Status publishers: the seam through which the Kubernetes source writes
// `status` back to the cluster without knowing what the status means.
//
// Why here, and shaped like this. Only the leader of the Kubernetes source
// may write to the cluster (one writer per cluster, the same lease that
// elects who reads it into the Store), and only the source holds the API
// client (convention 5). What the status says is another component's
// business: the Gateway API's conditions come from gateway/translate, and
// src/ must not import gateway/. So the source takes, as an option, a list
// of publishers: pure planners that, given the Store's objects and the
// time, say which objects' status should change and how (a merge patch of
// `status`, already diffed against the status the object carries). The
// source's status writer (status-writer.ts) records Store changes, runs the
// publishers in one rate-limited sync, and PATCHes the status subresource.
// The composition root (src/cli/runtime.ts) hands in the gateway's
// publisher, so whichever process leads (a gateway, an agent, `pier start`)
// writes the same status, computed from the same Store.
//
// A publisher must be idempotent: once its patches are applied (and the
// cluster's MODIFIED events are back in the Store), planning again must
// give nothing, or the writer would loop.

import type { KindKey, KubeObject, ObjectRef } from '../../model/object.ts';

/** The objects a publisher plans from: the Store as the writer's informer holds it. */
export interface StatusView {
  /** Every object of the kind (one of the publisher's kinds), in no particular order. */
  list<T extends KubeObject = KubeObject>(kind: KindKey): T[];
}

export interface StatusPatch {
  /** The object to patch (its kind must be one the source reads). */
  ref: ObjectRef;
  /**
   * The body of an RFC 7386 merge patch of the status subresource:
   * `{ status: { conditions: [...] } }`. Lists are replaced whole, so a
   * publisher sends every entry it wants kept (other controllers' too).
   */
  patch: { status: Record<string, unknown> };
}

export interface StatusPublisher {
  /** For logs: `gateway-api`. */
  readonly name: string;
  /** The kinds plan() reads; the writer's informer watches them. */
  readonly kinds: readonly KindKey[];
  /**
   * Pure: the patches that bring each object's status to what it should be,
   * and none for an object whose status already is (lastTransitionTime
   * alone never makes a patch). `now` stamps conditions that change.
   */
  plan(view: StatusView, now: Date): StatusPatch[];
}
