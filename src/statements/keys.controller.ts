import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { LedgerError } from '../core/errors';
import { SERVICE_KEYS } from '../log/log.tokens';
import type { ServiceKeys } from '../log/service-keys';

/** SCRAPI transparency service keys: a COSE_KeySet, and each key by its RFC 9679 thumbprint kid. */
@Controller('.well-known/scitt-keys')
export class KeysController {
  private readonly keySet: Buffer;
  private readonly kidB64: string;

  constructor(@Inject(SERVICE_KEYS) private readonly keys: ServiceKeys) {
    // A one-element CBOR array (0x81) around the key's own bytes: no re-encoding of the key.
    this.keySet = Buffer.concat([Buffer.from([0x81]), keys.coseKey]);
    this.kidB64 = keys.kid.toString('base64url');
  }

  @Get()
  all(@Res() reply: FastifyReply): void {
    reply.header('content-type', 'application/cbor').header('cache-control', 'public, max-age=300').send(this.keySet);
  }

  @Get(':kid')
  one(@Param('kid') kid: string, @Res() reply: FastifyReply): void {
    // base64url without padding is canonical; tolerate padding and the hex form some clients use.
    const k = kid.replace(/=+$/, '');
    if (k !== this.kidB64 && k.toLowerCase() !== this.keys.kid.toString('hex')) throw new LedgerError('NO_SUCH_KEY', `no key with kid ${kid}`);
    reply.header('content-type', 'application/cbor').header('cache-control', 'public, max-age=300').send(Buffer.from(this.keys.coseKey));
  }
}
