// A tiny element builder: text is always set as text, never parsed as HTML.
/** Like element.replaceChildren, skipping false/null/undefined (from `condition && node`). */
export function fill(element, ...children) {
  element.replaceChildren(...children.flat().filter((child) => child !== false && child !== null && child !== undefined));
  return element;
}

export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (value === true) element.setAttribute(name, '');
    else element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** Replaces the page's content and moves focus to its heading, as a screen reader expects. */
export function show(...children) {
  const main = fill(document.getElementById('main'), ...children);
  (main.querySelector('h1') ?? main).focus?.();
}

let statusTimer;
/** A short message in the live region (announced by screen readers). */
export function announce(text, tone = 'info') {
  const status = document.getElementById('status');
  status.textContent = text;
  status.dataset.tone = tone;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => (status.textContent = ''), 6000);
}

export function field(label, input, hint) {
  const id = input.id || `field-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  const hintId = hint ? `${id}-hint` : undefined;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint && h('small', { id: hintId }, hint));
}

/** A form whose submit runs `action`; its error shows in words inside the form. */
export function form(attributes, children, action) {
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const element = h('form', { ...attributes, novalidate: true }, ...children, error);
  element.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const button = element.querySelector('button[type=submit]');
    if (button) button.disabled = true;
    try {
      await action(new FormData(element));
    } catch (caught) {
      error.textContent = caught.message;
      error.hidden = false;
    } finally {
      if (button) button.disabled = false;
    }
  });
  return element;
}
