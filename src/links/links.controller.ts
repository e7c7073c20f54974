import { Controller, Get, Param } from '@nestjs/common';
import { LedgerError } from '../core/errors';
import { Db } from '../db/db';
import { EntriesRepository } from '../statements/entries.repository';
import { parseEntryId } from '../statements/registration.service';
import { LinksRepository } from './links.repository';

/** Where an entry's transparent statement has been linked as an OCI referrer, per registry. */
@Controller('entries')
export class LinksController {
  constructor(private readonly db: Db) {}

  @Get(':id/links')
  async links(@Param('id') id: string) {
    const hash = parseEntryId(id);
    if (!(await EntriesRepository.get(this.db, hash))) throw new LedgerError('NOT_FOUND', `no entry ${id.toLowerCase()}`);
    const { links, skipped } = await LinksRepository.forEntry(this.db, hash);
    return {
      entryId: hash.toString('hex'),
      ...(skipped ? { notLinked: skipped } : {}),
      links: links.map((l) => ({
        registry: l.registry,
        repository: l.repository,
        subject: l.subjectDigest,
        status: l.status,
        attempts: l.attempts,
        ...(l.status === 'linked' ? { manifestDigest: l.manifestDigest, via: l.via, linkedAt: l.updatedAt.toISOString() } : {}),
        ...(l.status !== 'linked' ? { nextAttemptAt: l.nextAttemptAt.toISOString(), ...(l.lastError ? { reason: l.lastError } : {}) } : {}),
      })),
    };
  }
}
