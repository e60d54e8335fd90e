// Highlighting of the .net language in CodeMirror, driven by netc's own token definitions
// (grammar/tokens.ts): a stream tokenizer tries each token's pattern in the lexer's order,
// so the editor colours exactly what the compiler reads. Built-in layers and functions
// (src/compiler/builtins.ts) and the names that `block` / `model` define stand out.
import { HighlightStyle, StreamLanguage, syntaxHighlighting, type StringStream } from '@codemirror/language';
import { tags as t } from '@lezer/highlight';
import type { TokenType } from 'chevrotain';
import * as T from '../../../grammar/tokens.js';
import { BUILTINS } from '../../compiler/builtins.js';

interface State {
  /** The previous token was `block` or `model`: the next name is a definition. */
  defining: boolean;
}

const STYLE = new Map<TokenType, string | null>([
  [T.WhiteSpace, null],
  [T.Comment, 'lineComment'],
  [T.True, 'bool'],
  [T.False, 'bool'],
  [T.NumberLiteral, 'number'],
  [T.StringLiteral, 'string'],
  [T.Arrow, 'operator'],
  [T.DotDot, 'operator'],
  [T.Equals, 'operator'],
  [T.Plus, 'operator'],
  [T.Minus, 'operator'],
  [T.Star, 'operator'],
  [T.Slash, 'operator'],
  [T.LParen, 'paren'],
  [T.RParen, 'paren'],
  [T.LBrace, 'brace'],
  [T.RBrace, 'brace'],
  [T.LBracket, 'squareBracket'],
  [T.RBracket, 'squareBracket'],
  [T.Comma, 'separator'],
  [T.Colon, 'punctuation'],
  [T.Semicolon, 'separator'],
]);

/** Each token's pattern anchored at the stream position, in the lexer's order. */
const PATTERNS = T.allTokens.map((type) => ({ type, pattern: new RegExp(`^(?:${(type.PATTERN as RegExp).source})`) }));
const KEYWORD_TYPES = new Set(T.allTokens.filter((t) => T.KEYWORDS.includes(String(t.LABEL).replace(/'/g, ''))));

function token(stream: StringStream, state: State): string | null {
  for (const { type, pattern } of PATTERNS) {
    const match = stream.match(pattern) as RegExpMatchArray | null;
    if (!match || match[0].length === 0) continue;
    if (type === T.WhiteSpace || type === T.Comment) return STYLE.get(type) ?? null;
    const defining = state.defining;
    state.defining = type === T.Block || type === T.Model;
    if (STYLE.has(type)) return STYLE.get(type)!;
    if (KEYWORD_TYPES.has(type)) return 'keyword';
    if (defining) return 'typeName.definition';
    return match[0] in BUILTINS ? 'variableName.standard' : 'variableName';
  }
  stream.next();
  state.defining = false;
  return 'invalid';
}

export const netcLanguage = StreamLanguage.define<State>({
  name: 'netc',
  startState: () => ({ defining: false }),
  copyState: (state) => ({ ...state }),
  token,
  languageData: { commentTokens: { line: '#' } },
});

/** Colours for the tags above (basicSetup's default style is only a fallback). */
export const netcHighlighting = syntaxHighlighting(
  HighlightStyle.define([
    { tag: t.keyword, color: '#7a3e9d', fontWeight: '600' },
    { tag: t.definition(t.typeName), color: '#1b7f4b', fontWeight: '600' },
    { tag: t.standard(t.variableName), color: '#2f5fb3' },
    { tag: t.number, color: '#b35c00' },
    { tag: t.bool, color: '#b35c00' },
    { tag: t.string, color: '#a3336a' },
    { tag: t.lineComment, color: '#7b8490', fontStyle: 'italic' },
    { tag: t.operator, color: '#8a4b08' },
    { tag: t.invalid, color: '#c0392b', textDecoration: 'underline wavy' },
  ]),
);
