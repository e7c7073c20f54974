import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { LedgerError } from '../core/errors';
import { parseTilePath, TILE_WIDTH } from '../core/merkle';
import { Db } from '../db/db';
import { LogService } from '../log/log.service';
import { SERVICE_KEYS } from '../log/log.tokens';
import type { ServiceKeys } from '../log/service-keys';
import { neededBytes } from '../log/tile.store';
import { AuditRepository } from './audit.repository';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=1';

/**
 * C2SP tlog-tiles under /tlog/: the checkpoint, hash tiles and entry bundles, so tools nobody here
 * wrote (Go's sumdb/tlog, for one) can audit the log. Full tiles never change and are cached
 * forever; partial tiles are replaced as the tree grows.
 */
@Controller('tlog')
export class TlogController {
  constructor(
    private readonly log: LogService,
    private readonly db: Db,
    @Inject(SERVICE_KEYS) private readonly keys: ServiceKeys,
  ) {}

  @Get('checkpoint')
  async checkpoint(@Res() reply: FastifyReply): Promise<void> {
    const cp = await this.log.latestCheckpoint();
    reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-cache').send(cp.note);
  }

  @Get('vkey')
  vkey(@Res() reply: FastifyReply): void {
    reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'public, max-age=300').send(this.keys.noteVerifierKey + '\n');
  }

  @Get('tile/*')
  async tile(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const path = req.url.split('?')[0].replace(/^\/tlog\//, '');
    let t;
    try {
      t = parseTilePath(path);
    } catch {
      throw new LedgerError('NOT_FOUND', `${path} is not a tile path`);
    }
    // Only serve what a published checkpoint covers.
    const size = (await this.log.latestCheckpoint()).treeSize;
    const cache = t.width === TILE_WIDTH ? IMMUTABLE : SHORT;
    if (t.level === 'entries') {
      const start = t.index * TILE_WIDTH;
      if (start + t.width > size) throw new LedgerError('NOT_FOUND', `entry bundle ${path} is beyond the published tree`);
      const hashes = await AuditRepository.entryHashes(this.db, start, start + t.width);
      if (hashes.length !== t.width) throw new LedgerError('NOT_FOUND', `entry bundle ${path} is incomplete`);
      const out = Buffer.alloc(t.width * 34);
      hashes.forEach((h, i) => {
        out.writeUInt16BE(h.length, i * 34);
        h.copy(out, i * 34 + 2);
      });
      reply.header('content-type', 'application/octet-stream').header('cache-control', cache).send(out);
      return;
    }
    const bytes = t.width * 32;
    if (neededBytes(t.level, t.index, size) < bytes) throw new LedgerError('NOT_FOUND', `tile ${path} is beyond the published tree`);
    const data = await AuditRepository.tile(this.db, t.level, t.index);
    if (!data || data.length < bytes) throw new LedgerError('NOT_FOUND', `tile ${path} is not stored`);
    reply.header('content-type', 'application/octet-stream').header('cache-control', cache).send(data.subarray(0, bytes));
  }
}
