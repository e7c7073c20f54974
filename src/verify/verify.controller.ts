import { Controller, Headers, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { encode } from 'cbor2';
import { LedgerError } from '../core/errors';
import { VerifyService } from './verify.service';

/** Receipt verification queries for consumers. */
@Controller('verify')
export class VerifyController {
  constructor(private readonly verifier: VerifyService) {}

  @Post()
  @HttpCode(200)
  async verify(@Req() req: FastifyRequest, @Res() reply: FastifyReply, @Headers('content-type') ct?: string, @Headers('accept') accept?: string): Promise<void> {
    const isCose = !!ct && /^application\/cose\s*(;|$)/i.test(ct);
    const isCbor = !!ct && /^application\/cbor\s*(;|$)/i.test(ct);
    if (!isCose && !isCbor) throw new LedgerError('UNSUPPORTED_MEDIA_TYPE', 'POST /verify takes application/cose (a transparent statement) or application/cbor ([statement, receipt, ...])');
    const body = req.body;
    if (!Buffer.isBuffer(body) || body.length === 0) throw new LedgerError('MALFORMED_CBOR', 'the request body is empty');
    const verdict = await this.verifier.verify(body, isCbor);
    if (accept && /application\/cbor/.test(accept) && !/application\/json/.test(accept)) {
      reply.code(200).header('content-type', 'application/cbor').send(Buffer.from(encode(JSON.parse(JSON.stringify(verdict)))));
      return;
    }
    reply.code(200).header('content-type', 'application/json').send(verdict);
  }
}
