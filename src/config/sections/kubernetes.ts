// The Kubernetes source (src/sources/kubernetes): a live cluster's objects
// kept in the Store by one elected process.

import { z } from 'zod';
import { dnsLabelName } from '../formats.ts';
import { section, setting } from '../setting.ts';

export const kubernetes = section(
  'Read Services, EndpointSlices, Gateway API objects and more from a Kubernetes cluster into the Store.',
  {
    enabled: setting(z.boolean(), {
      default: false,
      description:
        'Run the Kubernetes source. Processes sharing a Store elect one of them to read and write; the others stand by.',
    }),
    kubeconfig: setting(z.string(), {
      default: '',
      accepts: 'a kubeconfig file path, or empty, e.g. /etc/pier/kubeconfig',
      description:
        "A kubeconfig file. Empty: the pod's service account when running in a pod, else $KUBECONFIG or ~/.kube/config.",
    }),
    context: setting(z.string(), {
      default: '',
      accepts: 'a context name in the kubeconfig, or empty',
      description: "The kubeconfig context to use; empty: the file's current-context.",
    }),
    namespaces: setting(z.array(dnsLabelName()), {
      default: [],
      accepts: 'a comma-separated list of namespace names, e.g. shop,payments',
      description: 'Read only these namespaces (and cluster-scoped kinds); empty: all namespaces.',
    }),
    leaseSeconds: setting(z.number().positive(), {
      default: 15,
      accepts: 'a positive number of seconds, e.g. 15',
      description:
        'How long the elected process holds its lease without renewing; a standby takes over after it runs out.',
    }),
    renewSeconds: setting(z.number().positive(), {
      default: 2,
      accepts: 'a positive number of seconds, e.g. 2',
      description:
        'How often the elected process renews its lease (less than two thirds of leaseSeconds).',
    }),
  },
);
