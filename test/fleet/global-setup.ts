/**
 * Once per fleet run: fail at once when redis-server is missing (CI must go red, not skip), then compile src/ to dist/
 * exactly as `npm start` does, so every gateway process starts in well under a second.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const version = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0)
    throw new Error(
      `the fleet suite needs redis-server on PATH (apt-get install redis-server): ${version.error?.message ?? version.stderr}`,
    );
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
}
