import { InitialLog1763830000000 } from './1763830000000-initial-log';
import { TrustAndPolicy1763830100000 } from './1763830100000-trust-and-policy';
import { ClaimsAndLinks1763830200000 } from './1763830200000-claims-and-links';
import { AdmissionGuard1763830300000 } from './1763830300000-admission-guard';
import { ClaimsInEntries1763830400000 } from './1763830400000-claims-in-entries';
import { LinkSkipInEntries1763830500000 } from './1763830500000-link-skip-in-entries';
import { LeavesWithoutEntryLock1763830600000 } from './1763830600000-leaves-without-entry-lock';

/** In order. Listed explicitly so the compiled service never globs the file system for code. */
export const MIGRATIONS = [
  InitialLog1763830000000,
  TrustAndPolicy1763830100000,
  ClaimsAndLinks1763830200000,
  AdmissionGuard1763830300000,
  ClaimsInEntries1763830400000,
  LinkSkipInEntries1763830500000,
  LeavesWithoutEntryLock1763830600000,
];
