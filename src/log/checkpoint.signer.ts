import { encodeReceiptProtected, signReceiptRoot } from '../core/cose';
import { formatCheckpoint, signNote } from '../core/note';
import type { ServiceKeys } from './service-keys';

export interface Checkpoint {
  treeSize: number;
  root: Buffer;
  /** The C2SP signed note. */
  note: string;
  /** Protected header shared by every receipt for this tree size. */
  receiptProtected: Buffer;
  /** The one signature over ["Signature1", receiptProtected, h'', root] shared by those receipts. */
  receiptSignature: Buffer;
  createdAt: Date;
}

/**
 * Signs a tree head twice, once per audience: a C2SP checkpoint (Ed25519) for tlog tooling and
 * witnesses, and the COSE receipt signature (ES256) that every RFC 9942 receipt at this size
 * reuses. Both sign the same root.
 */
export class CheckpointSigner {
  constructor(
    private readonly keys: ServiceKeys,
    private readonly origin: string,
    private readonly issuer: string,
  ) {}

  sign(treeSize: number, root: Buffer, at = new Date()): Checkpoint {
    const note = signNote(formatCheckpoint({ origin: this.origin, size: treeSize, rootHash: root }), this.keys.noteSigner);
    const receiptProtected = Buffer.from(
      encodeReceiptProtected({ alg: -7, kid: this.keys.kid, iss: this.issuer, sub: this.origin, iat: Math.floor(at.getTime() / 1000) }),
    );
    const receiptSignature = Buffer.from(signReceiptRoot(receiptProtected, root, this.keys.receiptKey));
    return { treeSize, root, note, receiptProtected, receiptSignature, createdAt: at };
  }
}
