// The netc tokens. Newlines are whitespace: a statement ends where the grammar says it
// does, so a chain may continue on the next line with `->`.
import { createToken, Lexer, type TokenType } from './chevrotain.js';

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n]*/, group: Lexer.SKIPPED });

export const Identifier = createToken({ name: 'Identifier', pattern: /[A-Za-z_][A-Za-z0-9_]*/ });
const keyword = (word: string) =>
  createToken({ name: word[0].toUpperCase() + word.slice(1).replace(/_(\w)/g, (_, c: string) => c.toUpperCase()), pattern: new RegExp(`${word}\\b`), longer_alt: Identifier, label: `'${word}'` });

export const Block = keyword('block');
export const Model = keyword('model');
export const Loss = keyword('loss');
export const Train = keyword('train');
export const Output = keyword('output');
export const For = keyword('for');
export const In = keyword('in');
export const CoarseToFine = keyword('coarse_to_fine');
export const True = keyword('true');
export const False = keyword('false');

export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/, label: 'a number' });
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /"[^"\n]*"/, label: 'a string' });

export const Arrow = createToken({ name: 'Arrow', pattern: /->/, label: "'->'" });
export const DotDot = createToken({ name: 'DotDot', pattern: /\.\./, label: "'..'" });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: "')'" });
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/, label: "'{'" });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/, label: "'}'" });
export const LBracket = createToken({ name: 'LBracket', pattern: /\[/, label: "'['" });
export const RBracket = createToken({ name: 'RBracket', pattern: /\]/, label: "']'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: "','" });
export const Colon = createToken({ name: 'Colon', pattern: /:/, label: "':'" });
export const Semicolon = createToken({ name: 'Semicolon', pattern: /;/, label: "';'" });
export const Equals = createToken({ name: 'Equals', pattern: /=/, label: "'='" });
export const Plus = createToken({ name: 'Plus', pattern: /\+/, label: "'+'" });
export const Minus = createToken({ name: 'Minus', pattern: /-/, label: "'-'" });
export const Star = createToken({ name: 'Star', pattern: /\*/, label: "'*'" });
export const Slash = createToken({ name: 'Slash', pattern: /\//, label: "'/'" });

/** Order matters: longer patterns before their prefixes, keywords before Identifier. */
export const allTokens: TokenType[] = [
  WhiteSpace, Comment,
  Block, Model, Loss, Train, Output, For, In, CoarseToFine, True, False,
  Identifier, NumberLiteral, StringLiteral,
  Arrow, DotDot, LParen, RParen, LBrace, RBrace, LBracket, RBracket,
  Comma, Colon, Semicolon, Equals, Plus, Minus, Star, Slash,
];

export const netcLexer = new Lexer(allTokens, { positionTracking: 'full', ensureOptimizations: false });

/** Words the language reserves; they cannot name values, blocks or models. */
export const KEYWORDS = ['block', 'model', 'loss', 'train', 'output', 'for', 'in', 'coarse_to_fine', 'true', 'false'];
