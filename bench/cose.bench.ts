/**
 * The registration hot path without HTTP or storage: decode + Signed Statement profile checks +
 * ES256 signature over distinct ~1 KB statements, against node:crypto's raw ES256 verify over the
 * very bytes our code verifies (each statement's Sig_structure). Target: >= 80% of raw.
 * Also: building a receipt (per request) and verifying one.
 *
 * `npm run bench -- cose`, or `node dist/bench/cose.bench.js` after a build.
 */
import { generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import {
  buildInclusionReceipt,
  encodeReceiptProtected,
  parseSignedStatement,
  sigStructure,
  signReceiptRoot,
  signSign1,
  verifyReceipt,
  verifyStatementSignature,
} from '../src/core/cose';
import { leafHash, rootFromInclusionProof } from '../src/core/merkle';
import type { BenchRow } from './report';

type Row = BenchRow & Record<string, unknown>;

function statements(n: number) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = Buffer.from('bench-key-1');
  const out: { bytes: Buffer; tbs: Buffer; sig: Buffer }[] = [];
  for (let i = 0; i < n; i++) {
    const h = new Map<number, unknown>([
      [1, -7],
      [3, 'application/vnd.in-toto+json'],
      [4, kid],
      [15, new Map<number, unknown>([[1, 'https://bench.example/builder'], [2, `oci://registry.example/app@sha256:${randomBytes(32).toString('hex')}`]])],
    ]);
    const bytes = signSign1({ protectedHeader: h, payload: randomBytes(820), key: privateKey });
    const st = parseSignedStatement(bytes);
    out.push({ bytes, tbs: sigStructure(st.sign1.protectedBytes, undefined, st.sign1.payload!), sig: st.sign1.signature });
  }
  return { publicKey, out };
}

/** Operations per second of `op(i)` over `ms` milliseconds (batches of 50 between clock reads). */
function rate(ms: number, op: (i: number) => void): number {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  let now = start;
  while (now < end) {
    for (let j = 0; j < 50; j++) op(n++);
    now = performance.now();
  }
  return (n / (now - start)) * 1000;
}

export async function run(): Promise<Row[]> {
  const { publicKey, out } = statements(2000);
  const len = out[0].bytes.length;
  const ours = (i: number) => {
    const s = out[i % out.length];
    verifyStatementSignature(parseSignedStatement(s.bytes, { maxBytes: 1024 * 1024 }), publicKey);
  };
  const raw = (i: number) => {
    const s = out[i % out.length];
    if (!verify('sha256', s.tbs, { key: publicKey, dsaEncoding: 'ieee-p1363' }, s.sig)) throw new Error('raw verify failed');
  };
  // Warm both paths, then alternate 500 ms slices so clock drift and turbo affect both alike.
  rate(300, ours);
  rate(300, raw);
  let oursTotal = 0;
  let rawTotal = 0;
  for (let k = 0; k < 4; k++) {
    rawTotal += rate(500, raw);
    oursTotal += rate(500, ours);
  }
  const opsPerSec = oursTotal / 4;
  const rawOpsPerSec = rawTotal / 4;
  const ratio = opsPerSec / rawOpsPerSec;

  // Receipts: building one per request, verifying one offline.
  const { privateKey: logKey, publicKey: logPub } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const prot = encodeReceiptProtected({ alg: -7, kid: Buffer.alloc(32, 7), iss: 'https://ledger.example', sub: 'ledger.example/log', iat: 1 });
  const path = Array.from({ length: 20 }, () => randomBytes(32));
  const entry = randomBytes(32);
  // Sign the root this entry and path really lead to, so that verification succeeds.
  const root = rootFromInclusionProof(5, 1_000_000, leafHash(entry), path);
  const sig = signReceiptRoot(prot, root, logKey);
  const buildRate = rate(1000, (i) => buildInclusionReceipt({ protectedBytes: prot, signature: sig, treeSize: 1_000_000, leafIndex: i % 1_000_000, path }));
  const receipt = buildInclusionReceipt({ protectedBytes: prot, signature: sig, treeSize: 1_000_000, leafIndex: 5, path });
  if (!verifyReceipt(receipt, { entry }, () => logPub).ok) throw new Error('bench receipt does not verify');
  const verifyRate = rate(1000, () => void verifyReceipt(receipt, { entry }, () => logPub));

  return [
    { bench: 'cose', metric: `raw ES256 crypto.verify (${len} B Sig_structure)`, value: rawOpsPerSec, unit: 'ops/s', name: 'raw-es256-verify', opsPerSec: rawOpsPerSec },
    {
      bench: 'cose',
      metric: `parseSignedStatement + verify (${len} B statements)`,
      value: opsPerSec,
      unit: 'ops/s',
      name: 'es256-parse-verify',
      opsPerSec,
      rawOpsPerSec,
      ratio,
    },
    { bench: 'cose', metric: 'ratio to raw verify', value: ratio, unit: 'x', target: '>= 0.80', pass: ratio >= 0.8, name: 'es256-ratio', opsPerSec, rawOpsPerSec, ratio },
    { bench: 'cose', metric: 'buildInclusionReceipt (path of 20)', value: buildRate, unit: 'ops/s', name: 'build-receipt', opsPerSec: buildRate },
    { bench: 'cose', metric: 'verifyReceipt (ES256, path of 20)', value: verifyRate, unit: 'ops/s', name: 'verify-receipt', opsPerSec: verifyRate },
  ];
}

if (require.main === module) {
  run().then(
    (rows) => {
      for (const r of rows) process.stdout.write(`${String(r.metric).padEnd(58)} ${Number(r.value).toFixed(r.unit === 'x' ? 3 : 0).padStart(10)} ${r.unit}\n`);
    },
    (e) => {
      process.stderr.write(`${e?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
