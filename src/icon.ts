import { LabIcon } from '@jupyterlab/ui-components';

// A magnifier over a falling chart line: "what went wrong in this model".
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="none" stroke="#616161" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
    <polyline points="2,6 6,9 9,7 12,12"/>
    <circle cx="15" cy="15" r="5"/>
    <line x1="18.6" y1="18.6" x2="22" y2="22"/>
    <line x1="2" y1="21" x2="9" y2="21"/>
  </g>
</svg>`;

export const workbenchIcon = new LabIcon({ name: 'ml-incident-workbench:icon', svgstr: svg });
