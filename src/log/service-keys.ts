import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { coseKeyThumbprint, publicKeyToCoseKey } from '../core/cose';
import { generateNoteKey, parseSignerKey, verifierKeyFromSigner, type NoteSigner } from '../core/note';

export interface ServiceKeys {
  /** ES256 key that signs receipts and the service's own statements. */
  receiptKey: KeyObject;
  receiptPublicKey: KeyObject;
  /** RFC 9679 thumbprint of the receipt key's COSE_Key: the receipts' `kid`. */
  kid: Buffer;
  /** The public COSE_Key (CBOR bytes) served in /.well-known/scitt-keys. */
  coseKey: Uint8Array;
  noteSigner: NoteSigner;
  /** `<name>+<hex id>+<base64>` as Go's sumdb/note writes it. */
  noteVerifierKey: string;
  /** Files written on this start (so the caller can say so; keys themselves are never logged). */
  generated: string[];
}

export interface ServiceKeyOptions {
  dataDir: string;
  receiptKeyFile?: string;
  noteKeyFile?: string;
  /** Note key name: the log origin. */
  origin: string;
}

function writeSecret(path: string, data: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // 'wx' refuses to overwrite: two processes racing on first start keep the first key.
  try {
    writeFileSync(path, data, { mode: 0o600, flag: 'wx' });
  } catch (e: any) {
    if (e?.code !== 'EEXIST') throw e;
  }
}

/** Loads the service keys from the configured files, generating them into DATA_DIR on first start. */
export function loadServiceKeys(o: ServiceKeyOptions): ServiceKeys {
  const generated: string[] = [];
  const receiptPath = resolve(o.receiptKeyFile ?? join(o.dataDir, 'receipt-key.pem'));
  const notePath = resolve(o.noteKeyFile ?? join(o.dataDir, 'note-key'));
  if (!existsSync(receiptPath)) {
    if (o.receiptKeyFile) throw new Error(`RECEIPT_KEY_FILE ${receiptPath} does not exist`);
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeSecret(receiptPath, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    generated.push(receiptPath);
  }
  if (!existsSync(notePath)) {
    if (o.noteKeyFile) throw new Error(`NOTE_KEY_FILE ${notePath} does not exist`);
    writeSecret(notePath, generateNoteKey(noteKeyName(o.origin)).signerKey + '\n');
    generated.push(notePath);
  }
  const receiptKey = createPrivateKey(readFileSync(receiptPath));
  if (receiptKey.asymmetricKeyType !== 'ec' || receiptKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`${receiptPath} must hold a P-256 (ES256) private key`);
  }
  const receiptPublicKey = createPublicKey(receiptKey);
  const kid = coseKeyThumbprint(receiptPublicKey);
  const coseKey = publicKeyToCoseKey(receiptPublicKey, { kid, alg: -7 });
  const noteSigner = parseSignerKey(readFileSync(notePath, 'utf8').trim());
  return { receiptKey, receiptPublicKey, kid, coseKey, noteSigner, noteVerifierKey: verifierKeyFromSigner(noteSigner), generated };
}

/** Note key names may not contain '+' or spaces; the origin usually qualifies as is. */
export function noteKeyName(origin: string): string {
  return origin.replace(/[+\s]/g, '_');
}
