// "Record verdicts": a small notebook beside findings.json that shows the HypothesisBoard, where
// the analyst marks each hypothesis confirmed / rejected / needs data (saved to verdicts.json).
import { PathExt } from '@jupyterlab/coreutils';
import { Contents } from '@jupyterlab/services';

/** The notebook's cells: the findings are read from the file beside it (the kernel starts there). */
export function verdictsNotebook(findingsFile: string): any {
  const code = (source: string) => ({ cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null });
  const lit = JSON.stringify(findingsFile); // a JSON string is a valid Python string literal here
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
      workbench: { kind: 'verdicts', findings: findingsFile }
    },
    cells: [
      {
        cell_type: 'markdown',
        metadata: {},
        source:
          '# Verdicts\n\nMark each hypothesis of the triage confirmed, rejected or needs-data, with a note. ' +
          'They are saved to `verdicts.json` beside the findings (the postmortem template reads it).'
      },
      code(
        'import json\n\nimport workbench as wb\n\n' +
          `findings_path = ${lit}\n` +
          'with open(findings_path) as f:\n    findings = wb.Findings.from_dict(json.load(f))\n' +
          'wb.HypothesisBoard(findings, findings_path=findings_path)'
      )
    ]
  };
}

/** Write `verdicts.ipynb` (or verdicts-1.ipynb, ...) beside `findingsPath`; never overwrites. */
export async function createVerdictsNotebook(contents: Contents.IManager, findingsPath: string): Promise<string> {
  const folder = PathExt.dirname(findingsPath);
  const content = verdictsNotebook(PathExt.basename(findingsPath));
  for (let i = 0; i < 100; i++) {
    const path = PathExt.join(folder, i ? `verdicts-${i}.ipynb` : 'verdicts.ipynb');
    try {
      await contents.get(path, { content: false });
      continue; // exists
    } catch {
      await contents.save(path, { type: 'notebook', format: 'json', content });
      return path;
    }
  }
  throw new Error(`${folder}: verdicts.ipynb .. verdicts-99.ipynb all exist; remove some`);
}
