// The pod network of one node, as the CNI verbs see it: attach a pod
// (ADD), detach it (DEL), check it (CHECK), free what the runtime no longer
// has (GC), and say whether pods can be attached now (STATUS).
//
// Implementation: pod-network/bridge-pod-network.ts (a veth per pod on the
// node's bridge, addresses from the node's subnet). The CNI handler
// (cni/handler.ts) turns requests into these calls; failures are CniErrors
// carrying the spec's codes.

import type { AttachResult, CniDns } from './cni/result.ts';

export interface AttachmentRef {
  containerId: string;
  ifname: string;
}

export interface AttachRequest extends AttachmentRef {
  netns: string;
  /** From CNI_ARGS K8S_POD_NAMESPACE: the first entry of the DNS search list. */
  podNamespace?: string | undefined;
}

export interface DetachRequest extends AttachmentRef {
  netns?: string | undefined;
}

export interface CheckRequest extends AttachRequest {
  /** The pod address the last ADD returned (`10.244.1.5/24`). */
  address: string;
}

export type NetworkStatus = { ready: true } | { ready: false; code: 50 | 51; reason: string };

export interface PodNetwork {
  attach(request: AttachRequest): Promise<AttachResult>;
  /**
   * Idempotent: succeeds when the pod, its namespace or its address are already
   * gone. Answers once the teardown is recorded; the kernel work follows (settle()).
   */
  detach(request: DetachRequest): Promise<void>;
  check(request: CheckRequest): Promise<void>;
  /** Frees addresses and host interfaces of every attachment not in `valid`. */
  gc(valid: readonly AttachmentRef[]): Promise<void>;
  status(): NetworkStatus;
  /** Finishes every recorded teardown, those a previous agent left included. */
  settle(): Promise<void>;
}

/** Builds the DNS block of a pod's CNI result. */
export type DnsForPod = (podNamespace: string | undefined) => CniDns;
