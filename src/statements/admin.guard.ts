import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { LedgerError } from '../core/errors';

export const ADMIN_TOKEN = Symbol('ADMIN_TOKEN');

/** `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (over digests, so length leaks nothing either). */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(@Inject(ADMIN_TOKEN) token: string) {
    this.expected = createHash('sha256').update(token).digest();
  }

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<FastifyRequest>();
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const given = createHash('sha256').update(m ? m[1] : '').digest();
    if (!m || !timingSafeEqual(given, this.expected)) throw new LedgerError('UNAUTHORIZED', 'the admin API needs Authorization: Bearer <ADMIN_TOKEN>');
    return true;
  }
}
