// `dbtls export ansible`: a playbook that distributes the certificates with Ansible's own modules (being built).
import type { Command } from 'commander';

export function registerExport(_program: Command): void {}
