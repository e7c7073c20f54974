import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';

/** Structured JSON logs (pino) for Nest and Fastify alike. */
export function createRootLogger(level: string): Logger {
  return pino({ level, base: { service: 'scitt-ledger' }, timestamp: pino.stdTimeFunctions.isoTime });
}

export class PinoNestLogger implements LoggerService {
  constructor(private readonly root: Logger) {}
  private child(ctx: unknown) {
    return typeof ctx === 'string' ? this.root.child({ context: ctx }) : this.root;
  }
  log(message: unknown, context?: unknown) {
    this.child(context).info(message as string);
  }
  error(message: unknown, trace?: unknown, context?: unknown) {
    this.child(context ?? trace).error(typeof trace === 'string' && context ? { trace } : {}, message as string);
  }
  warn(message: unknown, context?: unknown) {
    this.child(context).warn(message as string);
  }
  debug(message: unknown, context?: unknown) {
    this.child(context).debug(message as string);
  }
  verbose(message: unknown, context?: unknown) {
    this.child(context).trace(message as string);
  }
}
