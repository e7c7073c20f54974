import type { Command } from 'commander';
import { registerImageCommands } from './image-commands';

/** Commands that live in their own files (registry, audit, gate) hook in here. */
export function registerExtraCommands(program: Command): void {
  registerImageCommands(program);
  require('./audit').registerAuditCommand(program);
}
