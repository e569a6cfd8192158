// The CRDs are copied where kustomize and Helm can load them (neither reads files
// outside its own directory): the copies must equal what hack/gen-crds.ts generates.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCrdYaml } from '../../../hack/gen-crds.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const REGEN = 'stale CRD copy: run `npx tsc -p tsconfig.json && node dist/hack/gen-crds.js`';

describe('CRD copies for kustomize and Helm', () => {
  for (const dir of ['crds', 'config/crd/bases', 'deploy/helm/systemd-workload-operator/crds']) {
    it(`${dir} matches the generated CRDs`, () => {
      for (const [file, text] of Object.entries(renderCrdYaml())) {
        expect({ file: `${dir}/${file}`, same: readFileSync(path.join(root, dir, file), 'utf8') === text, hint: REGEN }).toEqual({
          file: `${dir}/${file}`,
          same: true,
          hint: REGEN,
        });
      }
    });
  }
});
