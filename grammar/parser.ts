// The netc grammar as a Chevrotain CstParser. Precedence, loosest first:
//   + -   then   ->   then   * /   then unary -   then postfix ([i], `x N`)   then primaries.
// So `conv(c, k) -> relu -> conv(c, k) + input` is (conv -> relu -> conv) + input, and
// `blur * 255 - 127.5` is arithmetic as usual.
import { CstParser, EOF, type IToken, type TokenType } from './chevrotain.js';
import * as T from './tokens.js';

/** Chevrotain's default messages name token types; these read as the language's words. */
const errorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual }: { expected: TokenType; actual: IToken }): string {
    return `expected ${describe(expected)} but found ${found(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }: { firstRedundant: IToken }): string {
    return `unexpected ${found(firstRedundant)}: expected a declaration (a constant, block, model, loss or train section)`;
  },
  buildNoViableAltMessage({ actual, ruleName }: { actual: IToken[]; ruleName: string }): string {
    return `unexpected ${found(actual[0])} in ${ruleDescription(ruleName)}`;
  },
  buildEarlyExitMessage({ actual, ruleName }: { actual: IToken[]; ruleName: string }): string {
    return `unexpected ${found(actual[0])} in ${ruleDescription(ruleName)}`;
  },
};

function describe(type: TokenType): string {
  if (type === EOF) return 'the end of the file';
  if (type === T.Identifier) return 'a name';
  return type.LABEL ?? type.name;
}

function found(token: IToken): string {
  if (token.tokenType === EOF) return 'the end of the file';
  return `'${token.image}'`;
}

function ruleDescription(rule: string): string {
  const words: Record<string, string> = {
    primary: 'an expression', declaration: 'a declaration', statement: 'a statement',
    setting: 'a train setting', argument: 'an argument', ctfCase: 'a coarse_to_fine case',
    modelDecl: "a model's inputs (e.g. model G(blur: rgb))", unaryExpr: 'an expression', postfixExpr: 'an expression',
  };
  return words[rule] ?? rule;
}

export class NetcParser extends CstParser {
  constructor() {
    super(T.allTokens, { recoveryEnabled: true, maxLookahead: 2, errorMessageProvider, skipValidations: process.env.NETC_VALIDATE_GRAMMAR !== '1' });
    this.performSelfAnalysis();
  }

  public program = this.RULE('program', () => {
    this.MANY(() => this.SUBRULE(this.declaration));
  });

  private declaration = this.RULE('declaration', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.constDecl) },
      { ALT: () => this.SUBRULE(this.blockDecl) },
      { ALT: () => this.SUBRULE(this.modelDecl) },
      { ALT: () => this.SUBRULE(this.lossDecl) },
      { ALT: () => this.SUBRULE(this.trainDecl) },
    ]);
  });

  // feats = 64
  private constDecl = this.RULE('constDecl', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
    this.OPTION(() => this.CONSUME(T.Semicolon));
  });

  // block ResBlock(c = feats) { ... }
  private blockDecl = this.RULE('blockDecl', () => {
    this.CONSUME(T.Block);
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.blockParam) });
      this.CONSUME(T.RParen);
    });
    this.SUBRULE(this.body);
  });

  private blockParam = this.RULE('blockParam', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Equals);
      this.SUBRULE(this.expression);
    });
  });

  // model Generator(blur: rgb) { ... }
  private modelDecl = this.RULE('modelDecl', () => {
    this.CONSUME(T.Model);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.modelInput) });
    this.CONSUME(T.RParen);
    this.SUBRULE(this.body);
  });

  private modelInput = this.RULE('modelInput', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.CONSUME2(T.Identifier);
  });

  private lossDecl = this.RULE('lossDecl', () => {
    this.CONSUME(T.Loss);
    this.SUBRULE(this.body);
  });

  // train { optimizer: adam(lr) ... }
  private trainDecl = this.RULE('trainDecl', () => {
    this.CONSUME(T.Train);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.setting));
    this.CONSUME(T.RBrace);
  });

  private setting = this.RULE('setting', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Colon);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
    this.OPTION(() => this.CONSUME(T.Semicolon));
  });

  private body = this.RULE('body', () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.statement));
    this.CONSUME(T.RBrace);
  });

  // output L = out + 0.5  |  B = pyramid(...)  |  conv(c, k) -> relu
  private statement = this.RULE('statement', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Output);
          this.OPTION({
            GATE: () => this.LA(2).tokenType === T.Equals,
            DEF: () => {
              this.CONSUME(T.Identifier);
              this.CONSUME(T.Equals);
            },
          });
          this.SUBRULE(this.expression);
        },
      },
      {
        GATE: () => this.LA(2).tokenType === T.Equals,
        ALT: () => {
          this.CONSUME2(T.Identifier);
          this.CONSUME2(T.Equals);
          this.SUBRULE2(this.expression);
        },
      },
      { ALT: () => this.SUBRULE3(this.expression) },
    ]);
    this.OPTION2(() => this.CONSUME(T.Semicolon));
  });

  public expression = this.RULE('expression', () => {
    this.SUBRULE(this.chainExpr);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Plus) }, { ALT: () => this.CONSUME(T.Minus) }]);
      this.SUBRULE2(this.chainExpr);
    });
  });

  private chainExpr = this.RULE('chainExpr', () => {
    this.SUBRULE(this.mulExpr);
    this.MANY(() => {
      this.CONSUME(T.Arrow);
      this.SUBRULE2(this.mulExpr);
    });
  });

  private mulExpr = this.RULE('mulExpr', () => {
    this.SUBRULE(this.unaryExpr);
    this.MANY(() => {
      this.OR([{ ALT: () => this.CONSUME(T.Star) }, { ALT: () => this.CONSUME(T.Slash) }]);
      this.SUBRULE2(this.unaryExpr);
    });
  });

  private unaryExpr = this.RULE('unaryExpr', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Minus);
          this.SUBRULE(this.unaryExpr);
        },
      },
      { ALT: () => this.SUBRULE(this.postfixExpr) },
    ]);
  });

  // L[0]   ResBlock x blocks   (`x` is an ordinary name elsewhere)
  private postfixExpr = this.RULE('postfixExpr', () => {
    this.SUBRULE(this.primary);
    this.MANY({
      GATE: () => this.LA(1).tokenType === T.LBracket || this.atRepeat(),
      DEF: () => {
        this.OR([
          {
            ALT: () => {
              this.CONSUME(T.LBracket);
              this.SUBRULE(this.expression);
              this.CONSUME(T.RBracket);
            },
          },
          {
            ALT: () => {
              this.CONSUME(T.Identifier, { LABEL: 'times' });
              this.SUBRULE2(this.primary, { LABEL: 'count' });
            },
          },
        ]);
      },
    });
  });

  private atRepeat(): boolean {
    const next = this.LA(2).tokenType;
    return this.LA(1).tokenType === T.Identifier && this.LA(1).image === 'x' &&
      (next === T.NumberLiteral || next === T.Identifier || next === T.LParen);
  }

  private primary = this.RULE('primary', () => {
    this.OR([
      { ALT: () => this.CONSUME(T.NumberLiteral) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      { ALT: () => this.CONSUME(T.True) },
      { ALT: () => this.CONSUME(T.False) },
      // `mean(k in ...` vs a call `mean(k, ...`: told apart by the `in` four tokens ahead.
      { GATE: () => this.LA(4).tokenType === T.In, ALT: () => this.SUBRULE(this.reduceExpr), IGNORE_AMBIGUITIES: true },
      { ALT: () => this.SUBRULE(this.callExpr) },
      { ALT: () => this.CONSUME(T.Identifier) },
      { ALT: () => this.SUBRULE(this.parenExpr) },
      { ALT: () => this.SUBRULE(this.listExpr) },
      { ALT: () => this.SUBRULE(this.forExpr) },
      { ALT: () => this.SUBRULE(this.coarseToFineExpr) },
    ]);
  });

  // mean(k in 0..scales) mse(L[k], S[k])
  private reduceExpr = this.RULE('reduceExpr', () => {
    this.CONSUME(T.Identifier, { LABEL: 'fn' });
    this.CONSUME(T.LParen);
    this.CONSUME2(T.Identifier, { LABEL: 'variable' });
    this.CONSUME(T.In);
    this.SUBRULE(this.range);
    this.CONSUME(T.RParen);
    this.SUBRULE(this.postfixExpr);
  });

  private range = this.RULE('range', () => {
    this.SUBRULE(this.expression, { LABEL: 'from' });
    this.CONSUME(T.DotDot);
    this.SUBRULE2(this.expression, { LABEL: 'to' });
  });

  private callExpr = this.RULE('callExpr', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.argument) });
    this.CONSUME(T.RParen);
  });

  // positional `64` or named `stride = 2`
  private argument = this.RULE('argument', () => {
    this.OPTION({
      GATE: () => this.LA(2).tokenType === T.Equals,
      DEF: () => {
        this.CONSUME(T.Identifier);
        this.CONSUME(T.Equals);
      },
    });
    this.SUBRULE(this.expression);
  });

  // (expr)  or a tuple (a, b)
  private parenExpr = this.RULE('parenExpr', () => {
    this.CONSUME(T.LParen);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
    this.CONSUME(T.RParen);
  });

  private listExpr = this.RULE('listExpr', () => {
    this.CONSUME(T.LBracket);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
    this.CONSUME(T.RBracket);
  });

  // for (c, s) in [(32, 2), (64, 1)] { conv(c, 5, stride = s) -> leaky_relu(0.2) }
  private forExpr = this.RULE('forExpr', () => {
    this.CONSUME(T.For);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Identifier) });
          this.CONSUME(T.RParen);
        },
      },
      { ALT: () => this.CONSUME2(T.Identifier) },
    ]);
    this.CONSUME(T.In);
    this.OR2([
      { GATE: () => this.isRangeAhead(), ALT: () => this.SUBRULE(this.range) },
      { ALT: () => this.SUBRULE(this.expression) },
    ]);
    this.SUBRULE(this.body);
  });

  /** Is a `..` ahead before the loop body's `{`? */
  private isRangeAhead(): boolean {
    for (let i = 1; ; i++) {
      const type = this.LA(i).tokenType;
      if (type === T.DotDot) return true;
      if (type === T.LBrace || type === EOF) return false;
    }
  }

  // coarse_to_fine(B) { coarsest(b) = ...   finer(b, coarser) = ... }
  private coarseToFineExpr = this.RULE('coarseToFineExpr', () => {
    this.CONSUME(T.CoarseToFine);
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(T.RParen);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.ctfCase));
    this.CONSUME(T.RBrace);
  });

  private ctfCase = this.RULE('ctfCase', () => {
    this.CONSUME(T.Identifier, { LABEL: 'which' });
    this.CONSUME(T.LParen);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME2(T.Identifier, { LABEL: 'param' }) });
    this.CONSUME(T.RParen);
    this.CONSUME(T.Equals);
    this.SUBRULE(this.expression);
  });
}

/** One parser instance serves every parse (Chevrotain parsers are reusable). */
export const parser = new NetcParser();
