import type { Command } from 'commander';

/** Commands that live in their own files (registry, audit, gate) hook in here. */
export function registerExtraCommands(_program: Command): void {
  // filled in by the registry, audit and gate capabilities
}
