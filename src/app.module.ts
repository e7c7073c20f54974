import { DynamicModule, Global, Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from './config/env.config';
import { createDataSource, runMigrations } from './db/data-source';
import { Db } from './db/db';
import { HealthController } from './health/health.controller';
import { MetricsService } from './health/metrics.service';
import { LogService } from './log/log.service';
import { SERVICE_KEYS } from './log/log.tokens';
import type { Runtime } from './runtime';
import { ADMIN_TOKEN, AdminGuard } from './statements/admin.guard';
import { AdminController } from './statements/admin.controller';
import { EntriesController } from './statements/entries.controller';
import { KeysController } from './statements/keys.controller';
import { ProblemFilter } from './statements/problem.filter';
import { RegistrationService } from './statements/registration.service';
import { TrustService } from './statements/trust.service';
import { withMigrationLock } from './db/migrate';
import { TlogController } from './audit/tlog.controller';
import { ClaimsController } from './claims/claims.controller';
import { GateService } from './claims/gate.service';
import { VerifyController } from './verify/verify.controller';
import { LinksController } from './links/links.controller';
import { LinkWorker } from './links/link.worker';
import { VerifyService } from './verify/verify.service';
import { LogReadController } from './audit/log-read.controller';

@Global()
@Module({})
export class RuntimeModule {
  static forRoot(rt: Runtime): DynamicModule {
    return {
      module: RuntimeModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres', url: rt.databaseUrl }),
          dataSourceFactory: async () => {
            const ds = createDataSource({ url: rt.databaseUrl, embedded: !!rt.embedded });
            await ds.initialize();
            if (rt.embedded) await runMigrations(ds);
            else await withMigrationLock(rt.databaseUrl, () => runMigrations(ds));
            return ds;
          },
        }),
      ],
      providers: [
        { provide: APP_CONFIG, useValue: rt.config },
        { provide: SERVICE_KEYS, useValue: rt.keys },
        { provide: ADMIN_TOKEN, useValue: rt.adminToken },
        { provide: Db, inject: [DataSource], useFactory: (ds: DataSource) => Db.fromDataSource(ds, !!rt.embedded) },
        MetricsService,
      ],
      exports: [APP_CONFIG, SERVICE_KEYS, ADMIN_TOKEN, Db, MetricsService],
    };
  }
}

@Module({ providers: [LogService], exports: [LogService] })
export class LogModule {}

@Module({
  imports: [LogModule],
  controllers: [EntriesController, KeysController, AdminController],
  providers: [TrustService, RegistrationService, AdminGuard],
  exports: [TrustService, RegistrationService],
})
export class StatementsModule {}

@Module({ imports: [TerminusModule, LogModule], controllers: [HealthController] })
export class HealthModule {}

@Module({ imports: [LogModule], controllers: [TlogController, LogReadController] })
export class AuditModule {}

@Module({ imports: [LogModule, StatementsModule], controllers: [ClaimsController, VerifyController], providers: [VerifyService, GateService] })
export class ConsumersModule {}

@Module({ imports: [LogModule, StatementsModule], controllers: [LinksController], providers: [LinkWorker], exports: [LinkWorker] })
export class LinksModule {}

@Module({})
export class AppModule {
  static forRoot(rt: Runtime): DynamicModule {
    return {
      module: AppModule,
      imports: [RuntimeModule.forRoot(rt), LogModule, StatementsModule, HealthModule, AuditModule, ConsumersModule, LinksModule],
      providers: [
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, transform: true, forbidUnknownValues: true }) },
      ],
    };
  }
}
