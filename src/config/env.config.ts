import 'reflect-metadata';
import { plainToInstance, Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

const int = () => Transform(({ value }) => (value === undefined || value === '' ? undefined : Number(value)));

/**
 * Every environment variable the service reads, validated once at boot. Nothing else in the
 * code base reads process.env: the validated instance is injected as `AppConfig`.
 */
export class EnvConfig {
  @int() @IsInt() @Min(0) @Max(65535)
  PORT = 8080;

  @IsString() @MinLength(1)
  HOST = '127.0.0.1';

  /** PostgreSQL URL. Unset: an embedded PostgreSQL (PGlite) persisted in DATA_DIR. */
  @IsOptional() @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @IsString() @MinLength(1)
  DATA_DIR = './data';

  /** C2SP checkpoint origin line; also the `sub` of every receipt. */
  @IsString() @Matches(/^[^\s+][^\n]*$/, { message: 'LOG_ORIGIN must be one line without leading space or "+"' })
  LOG_ORIGIN = 'localhost/scitt-ledger';

  /** `iss` of receipts and of the service's own (issuer/policy change) statements. */
  @IsString() @MinLength(1)
  SERVICE_ISSUER = 'https://localhost/scitt-ledger';

  @IsOptional() @IsString() @MinLength(16, { message: 'ADMIN_TOKEN must be at least 16 characters' })
  ADMIN_TOKEN?: string;

  @int() @IsInt() @Min(0) @Max(60000)
  REGISTRATION_WAIT_MS = 1000;

  @int() @IsInt() @Min(1) @Max(60000)
  LOG_BATCH_MS = 100;

  @int() @IsInt() @Min(1) @Max(100000)
  LOG_BATCH_MAX = 4096;

  /** Pending entries beyond which registration answers 503 + Retry-After. */
  @int() @IsInt() @Min(1)
  LOG_MAX_PENDING = 200000;

  /** ES256 PKCS#8 PEM that signs receipts and the service's own statements. Generated in DATA_DIR when absent. */
  @IsOptional() @IsString()
  RECEIPT_KEY_FILE?: string;

  /** C2SP note signer key (Go sumdb/note format, Ed25519) that signs checkpoints. Generated in DATA_DIR when absent. */
  @IsOptional() @IsString()
  NOTE_KEY_FILE?: string;

  /** JSON policy file applied (and logged) at first start when the log has no policy yet. */
  @IsOptional() @IsString()
  POLICY_FILE?: string;

  /** OCI registries claims may be linked into: inline JSON array or a file path. */
  @IsOptional() @IsString()
  REGISTRIES?: string;

  /** Longest wait between attempts to link a claim into its registry (exponential backoff up to this). */
  @int() @IsInt() @Min(1) @Max(86400)
  LINK_MAX_BACKOFF_SECONDS = 3600;

  /** Other transparency services whose receipts POST /verify accepts: JSON array inline or a file path. */
  @IsOptional() @IsString()
  FOREIGN_SERVICES?: string;

  @int() @IsInt() @Min(0)
  RATE_LIMIT_PER_SECOND = 100;

  @int() @IsInt() @Min(1024)
  MAX_BODY_BYTES = 1048576;

  @int() @IsInt() @Min(100)
  REQUEST_TIMEOUT_MS = 30000;

  /** HTTP worker processes (node:cluster) sharing the port; >1 needs DATABASE_URL (PGlite is single-process). */
  @int() @IsInt() @Min(1) @Max(64)
  WORKERS = 1;

  /** Threads verifying statement signatures off the event loop; default one less than the cores (0: inline). */
  @IsOptional() @int() @IsInt() @Min(0) @Max(64)
  VERIFY_THREADS?: number;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';
}

export class ConfigError extends Error {}

/** Validates an environment map; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): EnvConfig {
  const known = Object.keys(new EnvConfig());
  const raw: Record<string, string> = {};
  for (const k of [...known, 'DATABASE_URL', 'ADMIN_TOKEN', 'RECEIPT_KEY_FILE', 'NOTE_KEY_FILE', 'POLICY_FILE', 'REGISTRIES', 'FOREIGN_SERVICES']) {
    const v = env[k];
    if (v !== undefined && v !== '') raw[k] = v;
  }
  const cfg = plainToInstance(EnvConfig, raw);
  const errors = validateSync(cfg, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    const lines = errors.map((e) => `  ${e.property}=${JSON.stringify(raw[e.property] ?? null)}: ${Object.values(e.constraints ?? {}).join('; ')}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return cfg;
}

/** Injection token for the validated configuration. */
export const APP_CONFIG = Symbol('APP_CONFIG');
