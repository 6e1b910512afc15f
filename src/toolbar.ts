// The notebook toolbar button "Run as report", shown on notebooks made from a template.
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification, ToolbarButton } from '@jupyterlab/apputils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { INotebookModel, NotebookPanel } from '@jupyterlab/notebook';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { CommandIDs } from './app';
import { workbenchIcon } from './icon';

/** A toolbar button shown on notebooks made from a template (metadata `workbench.template`). */
export class RunAsReportButton implements DocumentRegistry.IWidgetExtension<NotebookPanel, INotebookModel> {
  constructor(private readonly commands: JupyterFrontEnd['commands']) {}

  createNew(panel: NotebookPanel, context: DocumentRegistry.IContext<INotebookModel>): IDisposable {
    const button = new ToolbarButton({
      className: 'wb-run-as-report',
      label: 'Run as report',
      icon: workbenchIcon,
      tooltip: 'Save, then run this template notebook as a report job (workbench)',
      onClick: async () => {
        try {
          if (context.model.dirty) {
            await context.save();
          }
          await this.commands.execute(CommandIDs.runReport, { notebook: context.path });
        } catch (error) {
          Notification.error((error as Error).message, { autoClose: 8000 });
        }
      }
    });
    const update = () => {
      const meta = context.model?.getMetadata('workbench') as { template?: string } | undefined;
      button.setHidden(!meta?.template);
    };
    button.setHidden(true);
    panel.toolbar.insertItem(10, 'workbench-run-as-report', button);
    void context.ready.then(() => {
      update();
      context.model.metadataChanged.connect(update);
    });
    return new DisposableDelegate(() => button.dispose());
  }
}
