import { Command, Option } from 'commander';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { embedReceipts, importPublicKey, signSign1 } from '../core/cose';
import { isLedgerError } from '../core/errors';
import { CliError, EXIT } from './exit-codes';
import { algOf, ALGS, generateSigningKey, publicJwk, readPrivateKey, sha, writePrivateKey } from './keys';
import { ServiceClient } from './service-client';
import { loadKeyFile, parseKeySet, verifyOffline } from './verify';
import { registerExtraCommands } from './commands';
import { verifyImage } from './image-commands';

const program = new Command();
program
  .name('scitt')
  .description('Sign, register and verify SCITT claims about container images against a scitt-ledger service.')
  .showHelpAfterError()
  .addHelpText('after', '\nExit codes: 0 success, 1 verification failed / rejected / denied, 2 usage error, 3 service or registry unavailable.');

const urlOption = () => new Option('--url <url>', 'service base URL').env('SCITT_URL').default('http://127.0.0.1:8080');
const tokenOption = () => new Option('--token <token>', 'admin token').env('SCITT_ADMIN_TOKEN');

function readInput(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e: any) {
    throw new CliError(`cannot read ${path}: ${e.code ?? e.message}`, EXIT.USAGE);
  }
}

program
  .command('keygen')
  .description('make an issuer signing key (PKCS#8 PEM, mode 0600) and print its public JWK')
  .addOption(new Option('--alg <alg>', 'signature algorithm').choices(Object.keys(ALGS)).default('ES256'))
  .requiredOption('--out <file>', 'where to write the private key')
  .action((o: { alg: string; out: string }) => {
    const key = generateSigningKey(o.alg);
    try {
      writePrivateKey(o.out, key);
    } catch (e: any) {
      throw new CliError(e.code === 'EEXIST' ? `${o.out} exists; not overwriting a key` : e.message, EXIT.USAGE);
    }
    const jwk = publicJwk(key);
    writeFileSync(`${o.out}.pub.jwk`, JSON.stringify(jwk, null, 2) + '\n');
    process.stdout.write(JSON.stringify(jwk) + '\n');
    process.stderr.write(`private key: ${o.out}\npublic JWK:  ${o.out}.pub.jwk\n`);
  });

program
  .command('sign')
  .description('make a Signed Statement (COSE_Sign1) over a file, about a subject')
  .argument('<file>', 'the claim: an SBOM, provenance, a report... (or the artifact itself with --hash-envelope)')
  .requiredOption('--key <pem>', 'issuer private key (from scitt keygen)')
  .requiredOption('--iss <issuer>', 'issuer (CWT iss)')
  .requiredOption('--sub <subject>', 'subject (CWT sub), e.g. oci://registry.example/app@sha256:...')
  .option('--content-type <type>', 'media type of the payload', 'application/octet-stream')
  .option('--hash-envelope', 'sign a digest of the file instead of the file (large artifacts)')
  .addOption(new Option('--hash-alg <alg>', 'digest for --hash-envelope').choices(['sha-256', 'sha-384', 'sha-512']).default('sha-256'))
  .option('--location <uri>', 'where the preimage can be fetched (hash envelope label 260)')
  .option('--kid <kid>', 'key id (default: the key\'s RFC 9679 thumbprint)')
  .requiredOption('-o, --out <file>', 'output file')
  .action((file: string, o: any) => {
    const key = readPrivateKey(o.key);
    const alg = algOf(key);
    const data = readInput(file);
    const kid = o.kid ? Buffer.from(o.kid) : Buffer.from(publicJwk(key).kid as string, 'base64url');
    const h = new Map<number, unknown>([[1, alg]]);
    let payload: Buffer = data;
    if (o.hashEnvelope) {
      const hashAlg = { 'sha-256': -16, 'sha-384': -43, 'sha-512': -44 }[o.hashAlg as string]!;
      payload = sha(hashAlg, data);
      h.set(258, hashAlg);
      h.set(259, o.contentType);
      if (o.location) h.set(260, o.location);
    } else {
      h.set(3, o.contentType);
    }
    h.set(4, kid);
    h.set(15, new Map<number, unknown>([[1, o.iss], [2, o.sub], [6, Math.floor(Date.now() / 1000)]]));
    writeFileSync(o.out, signSign1({ protectedHeader: h, payload, key }));
    process.stderr.write(`signed statement: ${o.out}\n`);
  });

program
  .command('submit')
  .description('register a Signed Statement; waits for the receipt, writes receipt and transparent statement')
  .argument('<statement>', 'statement file (.cose)')
  .addOption(urlOption())
  .option('--receipt <file>', 'where to write the receipt (default <statement>.receipt)')
  .option('--transparent <file>', 'where to write the transparent statement (default <statement>.transparent)')
  .option('--timeout <ms>', 'how long to wait for the receipt', '60000')
  .action(async (path: string, o: any) => {
    const st = readInput(path);
    const client = new ServiceClient(o.url);
    const { entryId, receipt } = await client.register(st, Number(o.timeout), (ms) => process.stderr.write(`pending; checking again in ${Math.round(ms)} ms\n`));
    const registered = await client.bytes(`/entries/${entryId}/statement`);
    const rPath = o.receipt ?? `${path}.receipt`;
    const tPath = o.transparent ?? `${path}.transparent`;
    writeFileSync(rPath, receipt);
    writeFileSync(tPath, embedReceipts(registered, [receipt]));
    process.stdout.write(JSON.stringify({ entryId, receipt: rPath, transparentStatement: tPath }) + '\n');
  });

program
  .command('keys')
  .description('fetch the service keys once (COSE_KeySet) to pin them for offline verification')
  .addOption(urlOption())
  .requiredOption('-o, --out <file>', 'output file')
  .action(async (o: any) => {
    const bytes = await new ServiceClient(o.url).keySet();
    parseKeySet(bytes);
    writeFileSync(o.out, bytes);
    process.stderr.write(`service keys pinned in ${o.out}\n`);
  });

program
  .command('verify')
  .description('verify offline: a transparent statement, or a statement with --receipt files, against pinned service keys')
  .argument('[statement]', 'statement or transparent statement (.cose)')
  .option('--receipt <file...>', 'detached receipt(s)')
  .option('--keys <file>', 'pinned service keys (from scitt keys); otherwise fetched once from --url')
  .addOption(urlOption())
  .option('--issuer-key <file>', 'also check the statement signature with this issuer key (JWK or PEM)')
  .option('--image <ref>', 'verify every transparent claim attached to this image in its registry')
  .addOption(new Option('--registries <json|file>', 'registry credentials for --image (as REGISTRIES)').env('SCITT_REGISTRIES'))
  .option('--json', 'print a JSON report')
  .action(async (path: string | undefined, o: any) => {
    if (o.image) {
      return verifyImage(o.image, o);
    }
    if (!path) throw new CliError('give a statement file, or --image <ref>', EXIT.USAGE);
    const keys = o.keys ? loadKeyFile(o.keys) : parseKeySet(await new ServiceClient(o.url).keySet());
    let issuerKey;
    if (o.issuerKey) {
      const text = readInput(o.issuerKey).toString('utf8');
      issuerKey = text.includes('BEGIN') ? createPublicKey(text) : importPublicKey(JSON.parse(text));
    }
    const report = verifyOffline(readInput(path), (o.receipt ?? []).map(readInput), keys, issuerKey);
    if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else {
      process.stdout.write(`entry ${report.entryId}  iss=${report.statement.iss ?? '?'}  sub=${report.statement.sub ?? '?'}\n`);
      if (report.statement.code) process.stdout.write(`  statement: ${report.statement.code}\n`);
      else process.stdout.write(`  statement signature: ${report.statement.signature}\n`);
      if (report.receipts.length === 0) process.stdout.write('  no receipts to verify\n');
      for (const r of report.receipts) {
        process.stdout.write(r.ok ? `  receipt ${r.receipt}: valid (leaf ${r.leafIndex} of ${r.treeSize})\n` : `  receipt ${r.receipt}: INVALID ${r.code} at ${r.step}: ${r.message}\n`);
      }
      process.stdout.write(report.valid ? 'VALID\n' : 'INVALID\n');
    }
    if (!report.valid) process.exitCode = EXIT.FAILED;
  });

const issuer = program.command('issuer').description('manage trusted issuers (admin API)');
issuer
  .command('add')
  .argument('<iss>', 'issuer identifier (CWT iss)')
  .requiredOption('--key <file...>', 'public key(s): JWK (.jwk/.json, e.g. from scitt keygen) or PEM')
  .addOption(urlOption())
  .addOption(tokenOption())
  .action(async (iss: string, o: any) => {
    const keys = (o.key as string[]).map((f) => {
      const text = readInput(f).toString('utf8');
      if (text.includes('BEGIN')) return { ...(createPublicKey(text).export({ format: 'jwk' }) as object) };
      try {
        return JSON.parse(text);
      } catch {
        throw new CliError(`${f} is neither a JWK nor a PEM key`, EXIT.USAGE);
      }
    });
    const out = await new ServiceClient(o.url, o.token).admin('POST', '/issuers', { iss, keys });
    process.stdout.write(JSON.stringify(out) + '\n');
  });
issuer
  .command('list')
  .addOption(urlOption())
  .addOption(tokenOption())
  .action(async (o: any) => {
    const out = await new ServiceClient(o.url, o.token).admin<{ issuers: { iss: string; keys: unknown[] }[] }>('GET', '/issuers');
    for (const i of out.issuers) process.stdout.write(`${i.iss}\t${i.keys.length} key(s)\n`);
  });
issuer
  .command('remove')
  .argument('<iss>')
  .addOption(urlOption())
  .addOption(tokenOption())
  .action(async (iss: string, o: any) => {
    const out = await new ServiceClient(o.url, o.token).admin('DELETE', `/issuers/${encodeURIComponent(iss)}`);
    process.stdout.write(JSON.stringify(out) + '\n');
  });

const policy = program.command('policy').description('read or replace the registration policy (admin API)');
policy
  .command('get')
  .addOption(urlOption())
  .addOption(tokenOption())
  .action(async (o: any) => {
    process.stdout.write(JSON.stringify(await new ServiceClient(o.url, o.token).admin('GET', '/policy'), null, 2) + '\n');
  });
policy
  .command('set')
  .argument('<file>', 'policy JSON')
  .addOption(urlOption())
  .addOption(tokenOption())
  .action(async (file: string, o: any) => {
    const doc = JSON.parse(readInput(file).toString('utf8'));
    process.stdout.write(JSON.stringify(await new ServiceClient(o.url, o.token).admin('PUT', '/policy', doc)) + '\n');
  });

registerExtraCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CliError) {
    process.stderr.write(`scitt: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  if (isLedgerError(e)) {
    process.stderr.write(`scitt: ${e.code}: ${e.message}\n`);
    process.exit(EXIT.FAILED);
  }
  process.stderr.write(`scitt: ${(e as Error)?.stack ?? e}\n`);
  process.exit(EXIT.UNAVAILABLE);
});
