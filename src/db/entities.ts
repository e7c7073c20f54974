import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * TypeORM views of the tables created by migrations/ (synchronize is off: the SQL there is the
 * source of truth). Hot paths (registration, sequencing, proofs) use the repositories' explicit
 * parameterised SQL; these entities serve the simple reads and admin writes.
 */
@Entity({ name: 'entries' })
export class EntryEntity {
  @PrimaryColumn({ name: 'entry_hash', type: 'bytea' }) entryHash: Buffer;
  @Column({ type: 'bytea' }) statement: Buffer;
  @Column({ type: 'text' }) issuer: string;
  @Column({ type: 'text', nullable: true }) subject: string | null;
  @Column({ name: 'content_type', type: 'text', nullable: true }) contentType: string | null;
  @Column({ type: 'smallint' }) kind: number;
  @CreateDateColumn({ name: 'registered_at', type: 'timestamptz' }) registeredAt: Date;
}

@Entity({ name: 'log_leaves' })
export class LogLeafEntity {
  @PrimaryColumn({ type: 'bigint' }) idx: string;
  @Column({ name: 'entry_hash', type: 'bytea' }) entryHash: Buffer;
}

@Entity({ name: 'tiles' })
export class TileEntity {
  @PrimaryColumn({ type: 'smallint' }) level: number;
  @PrimaryColumn({ type: 'bigint' }) idx: string;
  @Column({ type: 'bytea' }) hashes: Buffer;
}

@Entity({ name: 'checkpoints' })
export class CheckpointEntity {
  @PrimaryColumn({ name: 'tree_size', type: 'bigint' }) treeSize: string;
  @Column({ type: 'bytea' }) root: Buffer;
  @Column({ type: 'text' }) note: string;
  @Column({ name: 'receipt_protected', type: 'bytea' }) receiptProtected: Buffer;
  @Column({ name: 'receipt_signature', type: 'bytea' }) receiptSignature: Buffer;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

@Entity({ name: 'issuers' })
export class IssuerEntity {
  @PrimaryColumn({ type: 'text' }) iss: string;
  @Column({ type: 'jsonb' }) keys: Record<string, unknown>[];
  @Column({ name: 'entry_hash', type: 'bytea' }) entryHash: Buffer;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

@Entity({ name: 'policy' })
export class PolicyEntity {
  @PrimaryColumn({ type: 'smallint' }) id: number;
  @Column({ type: 'jsonb' }) doc: Record<string, unknown>;
  @Column({ name: 'entry_hash', type: 'bytea' }) entryHash: Buffer;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}

export const ENTITIES = [EntryEntity, LogLeafEntity, TileEntity, CheckpointEntity, IssuerEntity, PolicyEntity];
