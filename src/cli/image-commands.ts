import type { Command } from 'commander';
import { Option } from 'commander';
import { readFileSync } from 'node:fs';
import { decodeSign1, extractReceipts, parseSignedStatement } from '../core/cose';
import { evaluateGate, parseConsumerPolicy, type GateClaim } from '../core/gate';
import { isLedgerError } from '../core/errors';
import {
  copyImageWithReferrers,
  createClientResolver,
  fetchClaims,
  findRegistry,
  isLoopbackHost,
  parseImageReference,
  parseRegistriesConfig,
  type OciClient,
  type RegistryConfig,
} from '../registry';
import { CliError, EXIT } from './exit-codes';
import { ServiceClient } from './service-client';
import { loadKeyFile, parseKeySet, verifyOffline, type PinnedKeys, type VerifyReport } from './verify';

interface ImageOpts {
  registries?: string;
  keys?: string;
  url?: string;
  json?: boolean;
}

const registriesOption = () =>
  new Option('--registries <json|file>', 'registry credentials, as REGISTRIES: [{"host", "username", "password", "token", "plainHttp"}]; loopback hosts default to plain HTTP').env('SCITT_REGISTRIES');

/** A client for the host the user named; registries not listed are used anonymously (plain HTTP on loopback only). */
function clientFor(host: string, o: ImageOpts): OciClient {
  let configs: RegistryConfig[];
  try {
    configs = parseRegistriesConfig(o.registries);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.USAGE);
  }
  if (!findRegistry(configs, host)) configs = [...configs, { host, ...(isLoopbackHost(host) ? { plainHttp: true } : {}) }];
  return createClientResolver(configs)(host);
}

async function resolveImage(ref: string, o: ImageOpts) {
  const r = parseImageReference(ref);
  if (!r) throw new CliError(`${ref} is not an image reference (host/repository[:tag][@sha256:...])`, EXIT.USAGE);
  const client = clientFor(r.host, o);
  let digest = r.digest;
  if (!digest) {
    const d = await client.headManifest(r.repository, r.tag ?? 'latest');
    if (!d) throw new CliError(`${ref} not found`, EXIT.FAILED);
    digest = d.digest;
  }
  return { ...r, digest, client };
}

async function pinnedKeys(o: ImageOpts): Promise<PinnedKeys> {
  if (o.keys) return loadKeyFile(o.keys);
  if (!o.url) throw new CliError('give the pinned service keys (--keys, from `scitt keys`) or --url to fetch them', EXIT.USAGE);
  return parseKeySet(await new ServiceClient(o.url).keySet());
}

function wrap(fn: () => Promise<void>): Promise<void> {
  return fn().catch((e) => {
    if (isLedgerError(e) && e.details?.retryable === true) throw new CliError(`${e.code}: ${e.message}`, EXIT.UNAVAILABLE);
    throw e;
  });
}

/** `scitt verify --image`: every transparent claim attached to the image, verified offline. */
export async function verifyImage(ref: string, o: ImageOpts): Promise<void> {
  return wrap(async () => {
    const img = await resolveImage(ref, o);
    const keys = await pinnedKeys(o);
    const claims = await fetchClaims(img.client, img.repository, img.digest);
    const reports: (VerifyReport & { manifest: string })[] = claims.map((c) => ({ manifest: c.manifestDigest, ...verifyOffline(c.statement, [], keys) }));
    const valid = reports.length > 0 && reports.every((r) => r.valid);
    if (o.json) process.stdout.write(JSON.stringify({ image: `${img.host}/${img.repository}@${img.digest}`, valid, claims: reports }, null, 2) + '\n');
    else {
      process.stdout.write(`${img.host}/${img.repository}@${img.digest}: ${reports.length} claim(s)\n`);
      for (const r of reports) {
        const bad = r.receipts.find((x) => !x.ok);
        process.stdout.write(`  ${r.valid ? 'VALID  ' : 'INVALID'} ${r.entryId.slice(0, 16)}…  iss=${r.statement.iss}${bad ? `  ${bad.code}` : ''}\n`);
      }
      process.stdout.write(valid ? 'VALID\n' : reports.length === 0 ? 'no claims\n' : 'INVALID\n');
    }
    if (!valid) process.exitCode = EXIT.FAILED;
  });
}

export function registerImageCommands(program: Command): void {
  program
    .command('discover')
    .description('list the transparent claims attached to an image (referrers API or the sha256-<hex> tag fallback)')
    .argument('<image-ref>', 'host/repository[:tag|@sha256:...]')
    .addOption(registriesOption())
    .option('--json', 'print JSON')
    .action((ref: string, o: ImageOpts) =>
      wrap(async () => {
        const img = await resolveImage(ref, o);
        const claims = await fetchClaims(img.client, img.repository, img.digest);
        const rows = claims.map((c) => {
          let iss: string | undefined, sub: string | undefined, contentType: unknown;
          try {
            const st = parseSignedStatement(extractReceipts(c.statement).registered, { requireSubject: false, requireAttachedPayload: false });
            ({ iss, sub } = st);
            contentType = st.hashEnvelope?.preimageContentType ?? st.contentType;
          } catch {
            // listed but not a statement we can read: shown as such
          }
          return { manifest: c.manifestDigest, entryId: c.descriptor.annotations?.['dev.scitt.entry-id'], iss, sub, contentType, created: c.descriptor.annotations?.['org.opencontainers.image.created'] };
        });
        if (o.json) process.stdout.write(JSON.stringify({ image: `${img.host}/${img.repository}@${img.digest}`, claims: rows }, null, 2) + '\n');
        else {
          process.stdout.write(`${img.host}/${img.repository}@${img.digest}\n`);
          for (const r of rows) process.stdout.write(`└── ${r.manifest}  ${r.contentType ?? '?'}  iss=${r.iss ?? '?'}  ${r.created ?? ''}\n`);
          if (rows.length === 0) process.stdout.write('(no claims)\n');
        }
      }),
    );

  program
    .command('copy')
    .description('copy an image and its referrers (the transparent claims) to another registry or repository')
    .argument('<src>', 'source image: host/repository[:tag|@sha256:...]')
    .argument('<dst>', 'destination: host/repository[:tag]')
    .addOption(registriesOption())
    .action((src: string, dst: string, o: ImageOpts) =>
      wrap(async () => {
        const s = parseImageReference(src);
        const d = parseImageReference(dst);
        if (!s || !d) throw new CliError('give source and destination as host/repository[:tag]', EXIT.USAGE);
        const result = await copyImageWithReferrers(
          { client: clientFor(s.host, o), repository: s.repository, reference: s.digest ?? s.tag ?? 'latest' },
          { client: clientFor(d.host, o), repository: d.repository, tag: d.tag },
        );
        process.stdout.write(
          JSON.stringify({ image: result.descriptor.digest, manifests: result.manifests.length, blobs: result.blobs.length, referrers: result.referrers.length, via: result.via }) + '\n',
        );
      }),
    );

  program
    .command('gate')
    .description('decide offline whether an image may be deployed: its claims from the registry, verified against pinned service keys, under a consumer policy')
    .argument('<image-ref>', 'host/repository[:tag|@sha256:...]')
    .requiredOption('--policy <file>', 'consumer policy JSON: {"require": [...], "forbid": [...], "maxAgeSeconds": N}')
    .option('--keys <file>', 'pinned service keys (from scitt keys)')
    .addOption(new Option('--url <url>', 'service to fetch the keys from when not pinned').env('SCITT_URL'))
    .addOption(registriesOption())
    .option('--json', 'print JSON')
    .action((ref: string, o: ImageOpts & { policy: string }) =>
      wrap(async () => {
        let policy;
        try {
          policy = parseConsumerPolicy(JSON.parse(readFileSync(o.policy, 'utf8')));
        } catch (e) {
          throw new CliError(`${o.policy}: ${(e as Error).message}`, EXIT.USAGE);
        }
        const img = await resolveImage(ref, o);
        const keys = await pinnedKeys(o);
        const claims: GateClaim[] = [];
        let rejected = 0;
        for (const c of await fetchClaims(img.client, img.repository, img.digest)) {
          const report = verifyOffline(c.statement, [], keys);
          if (!report.valid) {
            rejected++;
            continue;
          }
          const { registered, receipts } = extractReceipts(c.statement);
          const st = parseSignedStatement(registered, { requireSubject: false, requireAttachedPayload: false });
          // Registration time: the receipt's iat (the checkpoint that first covered the claim).
          const iat = (decodeSign1(receipts[0], { requireTag: false }).protectedHeader.get(15) as Map<number, unknown> | undefined)?.get(6);
          claims.push({
            entryId: report.entryId,
            issuer: st.iss,
            contentType: String(st.hashEnvelope?.preimageContentType ?? st.contentType ?? ''),
            registeredAt: new Date(typeof iat === 'number' ? iat * 1000 : 0),
            payload: st.sign1.payload ?? undefined,
          });
        }
        const decision = evaluateGate(policy, claims);
        const out = { image: `${img.host}/${img.repository}@${img.digest}`, ...decision, claimsVerified: claims.length, claimsRejected: rejected };
        if (o.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        else {
          process.stdout.write(`${out.image}: ${decision.decision.toUpperCase()} (${claims.length} verified claim(s), ${rejected} rejected)\n`);
          for (const r of decision.reasons) process.stdout.write(`  - ${r}\n`);
        }
        if (decision.decision !== 'allow') process.exitCode = EXIT.FAILED;
      }),
    );
}
