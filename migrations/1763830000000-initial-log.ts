import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The log: content-addressed statements, the pending queue, the sequence, C2SP hash tiles,
 * every checkpoint, and the single coordination row the sequencer takes FOR UPDATE.
 */
export class InitialLog1763830000000 implements MigrationInterface {
  name = 'InitialLog1763830000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE entries (
        entry_hash    bytea PRIMARY KEY CHECK (length(entry_hash) = 32),
        statement     bytea NOT NULL,
        issuer        text NOT NULL,
        subject       text,
        content_type  text,
        kind          smallint NOT NULL DEFAULT 0,
        registered_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
      )`);
    await q.query(`COMMENT ON COLUMN entries.kind IS '0 claim, 1 issuer change, 2 policy change (service statements)'`);
    // Acknowledged but not yet sequenced; the sequencer drains it in id order and deletes what it integrated.
    await q.query(`
      CREATE TABLE pending_entries (
        id         bigserial PRIMARY KEY,
        entry_hash bytea NOT NULL REFERENCES entries(entry_hash)
      )`);
    await q.query(`
      CREATE TABLE log_leaves (
        idx        bigint PRIMARY KEY CHECK (idx >= 0),
        entry_hash bytea NOT NULL REFERENCES entries(entry_hash),
        CONSTRAINT log_leaves_entry_hash_key UNIQUE (entry_hash)
      )`);
    // C2SP tlog-tiles, height 8: tile (level, idx) holds width*32 bytes. Full tiles never change and
    // are only ever inserted (so PostgreSQL stores each in one fresh TOAST run, ~34 bytes an entry);
    // the partial right-edge tiles, at most one per level, are replaced as they grow and deleted
    // when they fill up.
    await q.query(`
      CREATE TABLE tiles (
        level  smallint NOT NULL CHECK (level >= 0),
        idx    bigint NOT NULL CHECK (idx >= 0),
        hashes bytea NOT NULL CHECK (length(hashes) = 8192),
        PRIMARY KEY (level, idx)
      )`);
    // Hashes do not compress: skip the attempt.
    await q.query(`ALTER TABLE tiles ALTER COLUMN hashes SET STORAGE EXTERNAL`);
    await q.query(`
      CREATE TABLE tile_edges (
        level  smallint NOT NULL CHECK (level >= 0),
        idx    bigint NOT NULL CHECK (idx >= 0),
        hashes bytea NOT NULL CHECK (length(hashes) BETWEEN 32 AND 8160 AND length(hashes) % 32 = 0),
        PRIMARY KEY (level, idx)
      )`);
    await q.query(`
      CREATE TABLE checkpoints (
        tree_size         bigint PRIMARY KEY CHECK (tree_size >= 0),
        root              bytea NOT NULL,
        note              text NOT NULL,
        receipt_protected bytea NOT NULL,
        receipt_signature bytea NOT NULL,
        created_at        timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE log_state (
        id        smallint PRIMARY KEY CHECK (id = 1),
        tree_size bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO log_state (id, tree_size) VALUES (1, 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE log_state`);
    await q.query(`DROP TABLE checkpoints`);
    await q.query(`DROP TABLE tile_edges`);
    await q.query(`DROP TABLE tiles`);
    await q.query(`DROP TABLE log_leaves`);
    await q.query(`DROP TABLE pending_entries`);
    await q.query(`DROP TABLE entries`);
  }
}
