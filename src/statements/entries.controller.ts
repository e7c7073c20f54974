import { Controller, Get, Headers, Param, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { embedReceipts } from '../core/cose';
import { LedgerError } from '../core/errors';
import { APP_CONFIG, EnvConfig } from '../config/env.config';
import { Inject } from '@nestjs/common';
import { LogService } from '../log/log.service';
import { EntriesRepository } from './entries.repository';
import { Db } from '../db/db';
import { parseEntryId, RegistrationService } from './registration.service';

export const COSE = 'application/cose';

function isCose(ct: string | undefined): boolean {
  return !!ct && /^application\/cose\s*(;|$)/i.test(ct);
}

/** SCRAPI (draft-ietf-scitt-scrapi-11) registration and entry resolution. */
@Controller('entries')
export class EntriesController {
  constructor(
    private readonly registration: RegistrationService,
    private readonly log: LogService,
    private readonly db: Db,
    @Inject(APP_CONFIG) private readonly cfg: EnvConfig,
  ) {}

  private retryAfter(): string {
    return String(Math.max(1, Math.ceil(this.cfg.LOG_BATCH_MS / 1000)));
  }

  @Post()
  async register(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Headers('content-type') ct?: string): Promise<void> {
    if (!isCose(ct)) throw new LedgerError('UNSUPPORTED_MEDIA_TYPE', `POST /entries takes ${COSE} (a COSE_Sign1 Signed Statement), not ${ct ?? 'no content type'}`);
    const body = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new LedgerError('MALFORMED_CBOR', 'the request body is empty');
    const r = await this.registration.register(body);
    const location = `/entries/${r.entryId}`;
    if (r.state === 'pending') {
      reply.code(202).header('location', location).header('retry-after', this.retryAfter()).header('cache-control', 'no-store').send();
      return;
    }
    const { receipt } = await this.log.receiptForIndex(r.idx);
    reply.code(201).header('location', location).header('content-type', COSE).send(receipt);
  }

  @Get(':id')
  async receipt(@Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    const hash = parseEntryId(id);
    const entry = await EntriesRepository.get(this.db, hash);
    if (!entry) throw new LedgerError('NOT_FOUND', `no entry ${id.toLowerCase()}`);
    if (entry.idx === null) {
      reply.code(204).header('retry-after', this.retryAfter()).header('cache-control', 'no-store').send();
      return;
    }
    const { receipt } = await this.log.receiptForIndex(entry.idx);
    reply.code(200).header('content-type', COSE).header('cache-control', 'no-cache').send(receipt);
  }

  @Get(':id/statement')
  async statement(@Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    const entry = await EntriesRepository.get(this.db, parseEntryId(id));
    if (!entry) throw new LedgerError('NOT_FOUND', `no entry ${id.toLowerCase()}`);
    reply.code(200).header('content-type', COSE).header('cache-control', 'public, max-age=31536000, immutable').send(entry.statement);
  }

  @Get(':id/transparent-statement')
  async transparent(@Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    const entry = await EntriesRepository.get(this.db, parseEntryId(id));
    if (!entry) throw new LedgerError('NOT_FOUND', `no entry ${id.toLowerCase()}`);
    if (entry.idx === null) {
      reply.code(204).header('retry-after', this.retryAfter()).header('cache-control', 'no-store').send();
      return;
    }
    const { receipt } = await this.log.receiptForIndex(entry.idx);
    reply.code(200).header('content-type', COSE).header('cache-control', 'no-cache').send(Buffer.from(embedReceipts(entry.statement, [receipt])));
  }
}
