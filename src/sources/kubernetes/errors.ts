// The Kubernetes source's error table (convention 9): stable codes, and
// messages that say what to do. Leader election (leader.ts) has its own
// LEADER_* rows here, since the agent reuses it.

import { errorTable } from '../../errors.ts';

export const KubernetesErrors = errorTable('KUBERNETES', {
  /** No kubeconfig given, none at $KUBECONFIG or ~/.kube/config, and not in a pod. */
  NO_CONFIG: (tried: string) =>
    `no Kubernetes API to connect to (${tried}); set kubernetes.kubeconfig to a kubeconfig file, or run Pier in a pod with a service account`,
  BAD_CONFIG: (source: string, reason: string) =>
    `cannot use the Kubernetes client configuration from ${source}: ${reason}; check the file (kubectl --kubeconfig <file> config view)`,
  /** The API answered with an error status. */
  API: (what: string, status: number, reason: string, message: string) =>
    `${what}: the API server answered ${status}${reason === '' ? '' : ` ${reason}`}${message === '' ? '' : `: ${message}`}`,
  /** The API could not be reached, or the connection broke. */
  UNREACHABLE: (what: string, detail: string) =>
    `${what}: cannot reach the Kubernetes API (${detail}); retrying`,
  /** A watch stream line that is not a watch event. */
  BAD_STREAM: (what: string, detail: string) =>
    `${what}: the watch stream carried ${detail}; restarting the watch from the last resourceVersion`,
  /** The resource's API group or version is not served (a CRD not installed). */
  NOT_INSTALLED: (kind: string, tried: string) =>
    `${kind} is not served by this cluster (tried ${tried}); install its CRDs (Gateway API: https://gateway-api.sigs.k8s.io/guides/#installing-gateway-api). Pier retries slowly and picks it up once installed`,
  /** An object the API served that Pier's model rejects. */
  INVALID_OBJECT: (message: string) =>
    `${message}; skipped (the Store keeps its last valid version, if any)`,
  /** The Store holds an object of that name that another source wrote. */
  OWNED_ELSEWHERE: (object: string, owner: string) =>
    `${object} in the Store belongs to ${owner}, not to the Kubernetes source; left as it is (remove it from ${owner} to let the cluster's version in)`,
  BAD_OPTION: (option: string, reason: string) => `kubernetes source option ${option}: ${reason}`,
  /** A PATCH of an object's status subresource failed (status-writer.ts). */
  STATUS_WRITE: (object: string, detail: string) =>
    `cannot write the status of ${object} (${detail}); retrying with backoff. A 403 means Pier's service account lacks "patch" on that resource's status subresource`,
  /** A status publisher threw while planning: a bug in it; nothing is written this round. */
  STATUS_PLAN: (publisher: string, detail: string) =>
    `status publisher ${publisher} failed to plan (${detail}); no status written this round, retrying on the next change`,
  LEADER_BAD_OPTION: (option: string, reason: string) =>
    `leader election option ${option}: ${reason}`,
  /** The lease object in the Store is not a pier.dev/Lease Pier can read. */
  LEADER_BAD_LEASE: (name: string, reason: string) =>
    `lease ${name} in the Store is malformed (${reason}); it is treated as expired and overwritten`,
});
