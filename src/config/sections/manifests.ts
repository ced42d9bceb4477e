// The folder of Kubernetes YAML the embedded source loads (src/sources/manifests).

import { z } from 'zod';
import { nonEmpty } from '../formats.ts';
import { section, setting } from '../setting.ts';

export const manifests = section('A folder of Kubernetes YAML loaded into the Store.', {
  path: setting(nonEmpty(), {
    default: 'examples',
    accepts: 'a path to a folder or a YAML file',
    description:
      'A folder (read recursively) or one YAML file; relative paths start at the working directory.',
  }),
  watch: setting(z.boolean(), {
    default: true,
    description: 'Reload when a file under the path changes.',
  }),
});
