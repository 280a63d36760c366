// The Code tab's editor: CodeMirror 6 with Ollio's colours (CSS variables,
// so it follows light and dark by itself), a language per file, line
// numbers, search, bracket matching and indentation by language. Bundled
// into /pkg/editor.js by scripts/lib.sh and imported by the project page
// once it is interactive (src/app/project/editor.rs).

import { EditorState, Compartment } from '@codemirror/state';
import {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  drawSelection,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { searchKeymap, highlightSelectionMatches } from '@codemirror/search';
import { closeBrackets, closeBracketsKeymap } from '@codemirror/autocomplete';
import {
  bracketMatching,
  indentOnInput,
  syntaxHighlighting,
  StreamLanguage,
  foldGutter,
} from '@codemirror/language';
import { classHighlighter } from '@lezer/highlight';
import { html } from '@codemirror/lang-html';
import { css } from '@codemirror/lang-css';
import { javascript } from '@codemirror/lang-javascript';
import { json } from '@codemirror/lang-json';
import { python } from '@codemirror/lang-python';
import { markdown } from '@codemirror/lang-markdown';
import { yaml } from '@codemirror/lang-yaml';
import { toml } from '@codemirror/legacy-modes/mode/toml';
import { shell } from '@codemirror/legacy-modes/mode/shell';

/** The language support for a file, from its name. */
function languageFor(path) {
  const name = path.toLowerCase();
  const ext = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '';
  switch (ext) {
    case 'html': case 'htm': return html();
    case 'css': return css();
    case 'js': case 'mjs': case 'cjs': return javascript();
    case 'jsx': return javascript({ jsx: true });
    case 'ts': case 'mts': case 'cts': return javascript({ typescript: true });
    case 'tsx': return javascript({ jsx: true, typescript: true });
    case 'json': return json();
    case 'py': return python();
    case 'md': case 'markdown': return markdown();
    case 'yaml': case 'yml': return yaml();
    case 'toml': return StreamLanguage.define(toml);
    case 'sh': case 'bash': return StreamLanguage.define(shell);
    default:
      if (name.endsWith('dockerfile') || name.endsWith('.env')) return StreamLanguage.define(shell);
      return [];
  }
}

/** The language's name as the status bar shows it. */
export function languageName(path) {
  const ext = path.includes('.') ? path.slice(path.lastIndexOf('.') + 1).toLowerCase() : '';
  const names = {
    html: 'HTML', htm: 'HTML', css: 'CSS', js: 'JavaScript', mjs: 'JavaScript', cjs: 'JavaScript',
    jsx: 'JSX', ts: 'TypeScript', tsx: 'TSX', json: 'JSON', py: 'Python', md: 'Markdown',
    yaml: 'YAML', yml: 'YAML', toml: 'TOML', sh: 'Shell', bash: 'Shell',
  };
  return names[ext] ?? 'Plain text';
}

// Tokens get `tok-*` classes, coloured in style/main.css like the
// highlighted view's.

const theme = EditorView.theme({
  '&': { color: 'var(--fg)', backgroundColor: 'var(--bg-elevated)', height: '100%' },
  '.cm-content': { fontFamily: 'var(--font-mono)', caretColor: 'var(--fg)' },
  '.cm-gutters': { backgroundColor: 'var(--bg-elevated)', color: 'var(--fg-muted)', border: 'none', borderRight: '1px solid var(--border)' },
  '.cm-activeLine, .cm-activeLineGutter': { backgroundColor: 'color-mix(in srgb, var(--accent) 8%, transparent)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection': {
    backgroundColor: 'color-mix(in srgb, var(--accent) 28%, transparent)',
  },
  '.cm-matchingBracket': { outline: '1px solid var(--accent)' },
  '.cm-panels': { backgroundColor: 'var(--bg-sunken)', color: 'var(--fg)' },
  '.cm-panels input, .cm-panels button': { font: 'inherit' },
  '.cm-scroller': { overflow: 'auto' },
});

/**
 * Mounts an editor on `parent` holding `doc`. Callbacks: `onChange(text)`
 * after each edit, `onSave()` on Ctrl/Cmd+S, `onCursor(line, column, from,
 * to)` (the selection, in UTF-16 offsets), `onAsk()` on Ctrl/Cmd+K.
 * With `line` (from 1), the cursor starts there, shown and focused.
 * Returns a handle to set the text back, read it, or take the editor down.
 */
export function mount(parent, path, doc, readOnly, onChange, onSave, onCursor, line, onAsk) {
  const editable = new Compartment();
  const save = () => {
    onSave();
    return true;
  };
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(),
        foldGutter(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        drawSelection(),
        history(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        highlightSelectionMatches(),
        syntaxHighlighting(classHighlighter),
        theme,
        languageFor(path),
        editable.of([EditorState.readOnly.of(readOnly), EditorView.editable.of(!readOnly)]),
        keymap.of([
          { key: 'Mod-s', run: save, preventDefault: true },
          {
            key: 'Mod-k',
            run: () => {
              onAsk();
              return true;
            },
            preventDefault: true,
          },
          ...closeBracketsKeymap,
          ...defaultKeymap,
          ...searchKeymap,
          ...historyKeymap,
          indentWithTab,
        ]),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) onChange(update.state.doc.toString());
          if (update.selectionSet || update.docChanged) {
            const { head, from, to } = update.state.selection.main;
            const line = update.state.doc.lineAt(head);
            onCursor(line.number, head - line.from + 1, from, to);
          }
        }),
        EditorView.contentAttributes.of({ 'aria-label': `${path}, editor` }),
      ],
    }),
  });
  if (line > 0) {
    const at = view.state.doc.line(Math.min(line, view.state.doc.lines));
    view.dispatch({ selection: { anchor: at.from }, effects: EditorView.scrollIntoView(at.from, { y: 'center' }) });
    view.focus();
  }
  return {
    text: () => view.state.doc.toString(),
    setText: (text) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } }),
    focus: () => view.focus(),
    destroy: () => view.destroy(),
  };
}
