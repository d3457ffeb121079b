import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Tests that run the real `signoff` process need dist/ built from the current sources. */
export default function setup() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    cwd: root,
    encoding: 'utf8',
  });
  if (tsc.status !== 0) throw new Error(`npm run build failed:\n${tsc.stdout}${tsc.stderr}`);
}
