import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './problem';

/** The one place errors become HTTP answers (RFC 9290 CBOR, or RFC 9457 JSON on request). */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(err: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    const p = sendProblem(reply as any, req.headers.accept, err);
    if (p.status >= 500) this.logger.error(`${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
  }
}
