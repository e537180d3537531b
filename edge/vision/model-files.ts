/**
 * ModelFiles: finds each model named in `models/manifest.json`, checks its
 * SHA-256 against the manifest and hands out the verified bytes.
 *
 * Nothing is ever downloaded: models come from npm packages installed with
 * the project, or (package "platepay") from the project's own `models/`. A missing or altered file is a ModelFileError that says which
 * model, which path and what was expected, so an operator can fix the
 * installation instead of getting wrong plate reads.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ModelEntry {
  description: string;
  package: string;
  version: string;
  file: string;
  sha256: string;
  licence: string;
}

export interface ModelManifest {
  schema: string;
  models: Record<string, ModelEntry>;
}

export class ModelFileError extends Error {
  readonly code = 'MODEL_FILE';
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/** The project root: two levels above this file in both `edge/vision` and `dist/edge/vision`. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'platepay') return dir;
    } catch {
      // not here; go up
    }
    dir = dirname(dir);
  }
  throw new ModelFileError(
    'cannot find the platepay project root (package.json) above ' + fileURLToPath(import.meta.url),
  );
}

export const defaultManifestPath = (): string => join(projectRoot(), 'models', 'manifest.json');

export function loadManifest(path = defaultManifestPath()): ModelManifest {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ModelFileError(`model manifest ${path} cannot be read: ${(err as Error).message}`);
  }
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(text) as ModelManifest;
  } catch (err) {
    throw new ModelFileError(`model manifest ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (manifest.schema !== 'platepay-models/1' || typeof manifest.models !== 'object' || manifest.models === null) {
    throw new ModelFileError(`model manifest ${path} has no "platepay-models/1" schema with a "models" object`);
  }
  for (const [name, entry] of Object.entries(manifest.models)) {
    for (const key of ['package', 'version', 'file', 'sha256'] as const) {
      if (typeof entry[key] !== 'string' || entry[key].length === 0) {
        throw new ModelFileError(`model manifest ${path}: model "${name}" lacks "${key}"`);
      }
    }
  }
  return manifest;
}

export class ModelFiles {
  private readonly require = createRequire(join(projectRoot(), 'package.json'));
  private readonly cache = new Map<string, Buffer>();

  constructor(readonly manifest: ModelManifest = loadManifest()) {}

  /** Absolute path of a model's file inside its installed npm package. */
  pathOf(name: string): string {
    const entry = this.entry(name);
    // the project's own artifacts (the trained plate head) live in the project, not in a package
    if (entry.package === 'platepay') return resolve(projectRoot(), entry.file);
    let packageJson: string;
    try {
      packageJson = this.require.resolve(`${entry.package}/package.json`);
    } catch {
      // packages with an "exports" map hide package.json; find the folder on the resolution paths
      const paths = this.require.resolve.paths(entry.package) ?? [];
      const found = paths
        .map((p) => join(p, entry.package, 'package.json'))
        .find((p) => {
          try {
            readFileSync(p);
            return true;
          } catch {
            return false;
          }
        });
      if (!found) {
        throw new ModelFileError(
          `model "${name}": npm package ${entry.package}@${entry.version} is not installed (run npm install)`,
        );
      }
      packageJson = found;
    }
    const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;
    if (version !== entry.version) {
      throw new ModelFileError(
        `model "${name}": installed ${entry.package} is ${version}, the manifest expects ${entry.version}`,
      );
    }
    return resolve(dirname(packageJson), entry.file);
  }

  /** The model's bytes, verified against the manifest's SHA-256. */
  bytes(name: string): Buffer {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const entry = this.entry(name);
    const path = this.pathOf(name);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (err) {
      throw new ModelFileError(`model "${name}" is missing: ${path} (${(err as Error).message})`);
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== entry.sha256) {
      throw new ModelFileError(
        `model "${name}" at ${path} has been altered: SHA-256 ${actual}, the manifest expects ${entry.sha256}`,
      );
    }
    this.cache.set(name, bytes);
    return bytes;
  }

  private entry(name: string): ModelEntry {
    const entry = this.manifest.models[name];
    if (!entry) throw new ModelFileError(`model "${name}" is not in the manifest`);
    return entry;
  }
}
