import type { Queryable } from '../db/db';
import { ENTRY_KIND, issuerSubject } from '../core/policy';

export const VerifyRepository = {
  /** The issuer-change statements for `iss` that precede log index `before`, in log order. */
  async issuerHistory(q: Queryable, iss: string, before: number): Promise<Buffer[]> {
    const { rows } = await q.query<{ statement: Buffer }>(
      `SELECT e.statement FROM entries e JOIN log_leaves l ON l.entry_hash = e.entry_hash
        WHERE e.kind = $1 AND e.subject = $2 AND l.idx < $3 ORDER BY l.idx`,
      [ENTRY_KIND.issuerChange, issuerSubject(iss), before],
    );
    return rows.map((r) => r.statement);
  },
};
