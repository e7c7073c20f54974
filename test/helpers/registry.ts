import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestOf, type Descriptor } from '../../src/registry/descriptor';
import { OCI_MANIFEST } from '../../src/registry/media-types';
import type { OciClient } from '../../src/registry/oci-client';
import type { RegistryConfig } from '../../src/registry/registries.config';

/**
 * A real registry for integration tests: Debian's docker-registry (distribution 2.8, no referrers
 * API, so claims go through the tag fallback), on a free loopback port with its own storage.
 */
export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Temporary directory holding config.yml, htpasswd and the storage. */
  dir: string;
  /** The REGISTRIES entry for this registry (with the credentials when auth is on). */
  config: RegistryConfig;
  stop(): Promise<void>;
  /** Starts it again on the same port and storage after `stop()`. */
  start(): Promise<void>;
}

export interface StartRegistryOptions {
  auth?: { username: string; password: string };
}

const BINARY = process.env.DOCKER_REGISTRY_BIN ?? '/usr/bin/docker-registry';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function configYaml(dir: string, port: number, auth: boolean): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'storage')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    // A fixed secret keeps upload state tokens valid across a restart (and silences the warning).
    `  secret: ${randomBytes(16).toString('hex')}`,
    ...(auth ? ['auth:', '  htpasswd:', '    realm: scitt-test', `    path: ${join(dir, 'htpasswd')}`] : []),
    '',
  ].join('\n');
}

async function waitUntilUp(url: string, child: ChildProcess, output: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`docker-registry exited early:\n${output()}`);
    try {
      const res = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${url} within ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'scitt-registry-'));
  const port = await freePort();
  if (options.auth) {
    // distribution accepts only bcrypt entries.
    const line = execFileSync('htpasswd', ['-Bbn', options.auth.username, options.auth.password], { encoding: 'utf8' });
    writeFileSync(join(dir, 'htpasswd'), line.trim() + '\n');
  }
  const configPath = join(dir, 'config.yml');
  writeFileSync(configPath, configYaml(dir, port, options.auth !== undefined));
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;
  let child: ChildProcess | undefined;
  let output = '';
  const killOnExit = () => child?.kill('SIGKILL');

  const start = async () => {
    if (child) throw new Error('registry already running');
    output = '';
    const c = spawn(BINARY, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    c.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    c.once('exit', () => {
      if (child === c) child = undefined;
    });
    process.once('exit', killOnExit);
    try {
      await waitUntilUp(url, c, () => output);
    } catch (e) {
      c.kill('SIGKILL');
      throw e;
    }
  };

  const stop = async () => {
    const c = child;
    if (!c) return;
    process.removeListener('exit', killOnExit);
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    child = undefined;
  };

  await start();
  const config: RegistryConfig = { host, plainHttp: true, ...(options.auth ?? {}) };
  return { host, url, dir, config, start, stop };
}

/**
 * Pushes a small OCI image (a config blob and one layer) through `client` and returns its
 * descriptor. `seed` makes distinct images; the same seed gives the same digest.
 */
export async function pushTestImage(client: OciClient, repository: string, options: { seed?: string; tag?: string } = {}): Promise<Descriptor> {
  const seed = options.seed ?? randomBytes(8).toString('hex');
  const layer = new TextEncoder().encode(`layer for ${seed}\n`);
  const config = new TextEncoder().encode(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [digestOf(layer)] } }),
  );
  await client.uploadBlob(repository, config);
  await client.uploadBlob(repository, layer);
  const manifest = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.byteLength },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layer), size: layer.byteLength }],
      annotations: { 'org.example.seed': seed },
    }),
  );
  const digest = await client.putManifest(repository, options.tag ?? digestOf(manifest), manifest, OCI_MANIFEST);
  return { mediaType: OCI_MANIFEST, digest, size: manifest.byteLength };
}
