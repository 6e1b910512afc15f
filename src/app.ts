// The bridge between the two entry points of this package. The MIME renderer (mime.ts) is built by
// JupyterLab without access to the application; the main plugin (index.ts) registers its
// CommandRegistry here. Both are exposed from the same federated bundle, so they share this module
// instance. Where no application registered (a static HTML export, another front end), `commands()`
// is null and the renderer hides its buttons.
import { CommandRegistry } from '@lumino/commands';

let registry: CommandRegistry | null = null;

export function setCommands(commands: CommandRegistry): void {
  registry = commands;
}

export function commands(): CommandRegistry | null {
  return registry;
}

/** Command ids (stable: tests and keyboard shortcuts refer to them). */
export namespace CommandIDs {
  export const openLake = 'workbench:open-lake';
  export const triage = 'workbench:triage';
  export const newFromTemplate = 'workbench:new-from-template';
  export const runReport = 'workbench:run-report';
  export const explore = 'workbench:explore';
  export const openFindings = 'workbench:open-findings';
  export const newFromFindings = 'workbench:new-from-findings';
  export const recordVerdicts = 'workbench:record-verdicts';
  export const openPanel = 'workbench:open-panel';
}
