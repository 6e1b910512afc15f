// A tiny element builder: the widgets are plain DOM, no framework.
type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = { [name: string]: string | number | boolean | null | undefined | EventListener };

/** `h('div', {class: 'wb-x', onclick: f}, child, ...)`; null/false children are skipped. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value as EventListener);
    } else if (name === 'class') {
      el.className = String(value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el: HTMLElement, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) {
      continue;
    }
    if (Array.isArray(c)) {
      append(el, c);
    } else {
      el.append(typeof c === 'number' ? String(c) : c);
    }
  }
}

/** A JupyterLab-styled button. */
export function button(label: string, cls: string, onclick: () => void, title = ''): HTMLButtonElement {
  return h(
    'button',
    { class: `jp-Button jp-mod-styled wb-button ${cls}`, type: 'button', title: title || null, onclick },
    label
  );
}
