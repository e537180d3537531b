// The console's "export" tab. Placeholder while it is built; mount(panel, console) is its whole interface
// (see TABS in operator.js).
import { h } from './ui.js';

export function mount(panel) {
  panel.replaceChildren(h('h2', {}, 'export'));
}
