import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsDateString, IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateBy } from 'class-validator';
import { isDigest } from '../core/artifact';
import { LedgerError } from '../core/errors';
import { Db } from '../db/db';
import { ClaimsRepository } from './claims.repository';
import { GateService } from './gate.service';

/** PostgreSQL text cannot hold U+0000: such a filter is malformed, not a server error. */
const NoNul = () =>
  ValidateBy({ name: 'noNul', validator: { validate: (v) => typeof v !== 'string' || !v.includes('\u0000'), defaultMessage: (a) => `${a?.property} must not contain U+0000` } });

export class ClaimsQueryDto {
  @IsOptional() @IsString() @MaxLength(2048) @NoNul()
  issuer?: string;

  @IsOptional() @IsString() @MaxLength(256) @NoNul()
  contentType?: string;

  /** RFC 3339; claims registered at or after. */
  @IsOptional() @IsDateString()
  since?: string;

  /** RFC 3339; claims registered before. */
  @IsOptional() @IsDateString()
  until?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit?: number;

  @IsOptional() @IsString() @MaxLength(200)
  cursor?: string;
}

function encodeCursor(at: Date, hash: Buffer): string {
  return Buffer.from(`${at.toISOString()}|${hash.toString('hex')}`).toString('base64url');
}

function decodeCursor(c: string): { at: Date; hash: Buffer } {
  const m = /^(.+)\|([0-9a-f]{64})$/.exec(Buffer.from(c, 'base64url').toString('utf8'));
  const at = m ? new Date(m[1]) : undefined;
  if (!m || !at || Number.isNaN(at.getTime())) throw new LedgerError('MALFORMED_REQUEST', 'cursor is not one this service issued');
  return { at, hash: Buffer.from(m[2], 'hex') };
}

/** Which registered claims exist about an artifact digest. */
@Controller('artifacts')
export class ClaimsController {
  constructor(
    private readonly db: Db,
    private readonly gate: GateService,
  ) {}

  /** The trusted-artifact gate: allow or deny with every reason and the evidence (entry ids, receipts). */
  @Post(':digest/evaluate')
  @HttpCode(200)
  async evaluate(@Param('digest') digest: string, @Body() policy: unknown) {
    if (!isDigest(digest)) throw new LedgerError('MALFORMED_REQUEST', 'digest must be sha256:<64 lowercase hex> or sha512:<128 lowercase hex>');
    return this.gate.evaluate(digest, policy);
  }

  @Get(':digest/claims')
  async list(@Param('digest') digest: string, @Query() q: ClaimsQueryDto) {
    if (!isDigest(digest)) throw new LedgerError('MALFORMED_REQUEST', 'digest must be sha256:<64 lowercase hex> or sha512:<128 lowercase hex>');
    const limit = q.limit ?? 100;
    const rows = await ClaimsRepository.find(this.db, {
      digest,
      issuer: q.issuer,
      contentType: q.contentType,
      since: q.since ? new Date(q.since) : undefined,
      until: q.until ? new Date(q.until) : undefined,
      after: q.cursor ? decodeCursor(q.cursor) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((r) => ({
        entryId: r.entryHash.toString('hex'),
        issuer: r.issuer,
        subject: r.subject,
        contentType: r.contentType,
        registeredAt: r.registeredAt.toISOString(),
        status: r.idx === null ? 'pending' : 'integrated',
        index: r.idx,
      })),
      next: rows.length > limit && last ? encodeCursor(last.registeredAt, last.entryHash) : null,
    };
  }
}
