import { Controller, Get, Headers, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { encode } from 'cbor2';
import { buildConsistencyReceipt } from '../core/cose';
import { LedgerError } from '../core/errors';
import { Db } from '../db/db';
import { LogService } from '../log/log.service';
import { AuditRepository } from './audit.repository';

const CHUNK = 2000;

/** CBOR major type 2 (byte string) header for `len` bytes. */
export function bstrHeader(len: number): Buffer {
  if (len < 24) return Buffer.from([0x40 | len]);
  if (len < 0x100) return Buffer.from([0x58, len]);
  if (len < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = 0x59;
    b.writeUInt16BE(len, 1);
    return b;
  }
  const b = Buffer.alloc(5);
  b[0] = 0x5a;
  b.writeUInt32BE(len, 1);
  return b;
}

function intParam(name: string, v: string | undefined): number {
  if (v === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(v)) throw new LedgerError('BAD_RANGE', `${name} must be a non-negative integer`);
  return Number(v);
}

function wantsCbor(accept: string | undefined): boolean {
  return !!accept && /application\/cbor/.test(accept) && !/application\/json/.test(accept);
}

/** Bulk reads for auditors: statements in log order, consistency proofs and consistency receipts. */
@Controller('log')
export class LogReadController {
  constructor(
    private readonly log: LogService,
    private readonly db: Db,
  ) {}

  private async range(startQ?: string, endQ?: string): Promise<[number, number]> {
    const size = (await this.log.latestCheckpoint()).treeSize;
    const start = intParam('start', startQ);
    const end = endQ === undefined ? size : intParam('end', endQ);
    if (start > end || end > size) throw new LedgerError('BAD_RANGE', `need 0 <= start <= end <= ${size} (the published tree size)`);
    return [start, end];
  }

  /**
   * The registered statements of entries start..end-1 as an application/cbor-seq of byte strings.
   * Issuer and policy changes are ordinary entries whose content type (label 3) is
   * application/vnd.scitt-ledger.issuer-change+json or ...policy+json, signed by the service.
   */
  @Get('statements')
  async statements(@Query('start') startQ: string | undefined, @Query('end') endQ: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    const [start, end] = await this.range(startQ, endQ);
    const db = this.db;
    const chunk = async (from: number): Promise<Buffer> => {
      const to = Math.min(end, from + CHUNK);
      const rows = await AuditRepository.statements(db, from, to);
      if (rows.length !== to - from) {
        const have = new Set(rows.map((r) => r.idx));
        let missing = from;
        while (have.has(missing)) missing++;
        throw new LedgerError('STORAGE_INCOMPLETE', `the statement of entry ${missing} is missing from storage`);
      }
      const parts: Buffer[] = [];
      for (const r of rows) parts.push(bstrHeader(r.statement.length), r.statement);
      return Buffer.concat(parts);
    };
    // The first chunk is read before the status line goes out, so a range that starts on a hole is
    // a problem response; a hole further on can only abort the stream (never a clean, short body).
    const first = start < end ? await chunk(start) : Buffer.alloc(0);
    let next = Math.min(end, start + CHUNK);
    let firstSent = false;
    const stream = new Readable({
      async read() {
        try {
          if (!firstSent) {
            firstSent = true;
            if (first.length > 0) return void this.push(first);
          }
          if (next >= end) return void this.push(null);
          const from = next;
          next = Math.min(end, from + CHUNK);
          this.push(await chunk(from));
        } catch (e) {
          this.destroy(e as Error);
        }
      },
    });
    reply
      .header('content-type', 'application/cbor-seq')
      .header('x-scitt-range', `${start}-${end}`)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(stream);
  }

  @Get('consistency')
  async consistency(
    @Query('from') fromQ: string | undefined,
    @Query('to') toQ: string | undefined,
    @Headers('accept') accept: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const size = (await this.log.latestCheckpoint()).treeSize;
    const from = intParam('from', fromQ);
    const to = toQ === undefined ? size : intParam('to', toQ);
    const proof = await this.log.consistencyProof(from, to);
    if (wantsCbor(accept)) {
      reply.header('content-type', 'application/cbor').send(Buffer.from(encode([from, to, proof.map((p) => new Uint8Array(p))])));
      return;
    }
    reply.header('content-type', 'application/json').send({ from, to, proof: proof.map((p) => p.toString('base64')) });
  }

  /** An RFC 9942 consistency receipt from `from` to `to`, signed (once per tree size) over the newer root. */
  @Get('consistency-receipt')
  async consistencyReceipt(@Query('from') fromQ: string | undefined, @Query('to') toQ: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    const size = (await this.log.latestCheckpoint()).treeSize;
    const from = intParam('from', fromQ);
    const to = toQ === undefined ? size : intParam('to', toQ);
    const proof = await this.log.consistencyProof(from, to);
    const cp = await this.log.checkpointAt(to);
    const receipt = buildConsistencyReceipt({ protectedBytes: cp.receiptProtected, signature: cp.receiptSignature, size1: from, size2: to, proof });
    reply.header('content-type', 'application/cose').send(Buffer.from(receipt));
  }
}
