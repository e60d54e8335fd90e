// The model text in CodeMirror 6: .net highlighting, and netc's diagnostics as lint marks
// at their line and column (underline, gutter marker, hover message).
import { lintGutter, setDiagnostics } from '@codemirror/lint';
import { basicSetup, EditorView } from 'codemirror';
import type { Diagnostic } from '../../compiler/diagnostics.js';
import { netcHighlighting, netcLanguage } from './language.js';

export function createEditor(parent: HTMLElement, text: string, onChange: (text: string) => void): EditorView {
  return new EditorView({
    parent,
    doc: text,
    extensions: [
      basicSetup,
      netcLanguage,
      netcHighlighting,
      lintGutter(),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) onChange(update.state.doc.toString());
      }),
    ],
  });
}

/** Marks the diagnostics in the editor (their spans are offsets into the same text). */
export function markDiagnostics(view: EditorView, diagnostics: Diagnostic[]): void {
  const length = view.state.doc.length;
  const clamp = (n: number) => Math.max(0, Math.min(length, n));
  view.dispatch(
    setDiagnostics(
      view.state,
      diagnostics.map((d) => ({
        from: clamp(d.loc.offset),
        to: clamp(d.loc.offset + Math.max(1, d.loc.length)),
        severity: d.severity,
        message: d.message,
        source: 'netc',
      })),
    ),
  );
}

/** Puts the cursor at a diagnostic's position. */
export function reveal(view: EditorView, d: Diagnostic): void {
  const at = Math.min(view.state.doc.length, d.loc.offset);
  view.dispatch({ selection: { anchor: at }, scrollIntoView: true });
  view.focus();
}
