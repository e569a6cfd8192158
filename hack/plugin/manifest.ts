// node dist/hack/plugin/manifest.js ARCHIVE: prints the krew manifest for the
// archive make plugin-archive built (its sha256 read from the file itself).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dumpYaml } from '@kubernetes/client-node';
import { krewManifest } from './krew.js';

const archive = process.argv[2];
if (!archive) {
  process.stderr.write('usage: manifest.js ARCHIVE\n');
  process.exit(2);
}
const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
process.stdout.write(dumpYaml(krewManifest(version, sha256), { lineWidth: -1 }));
