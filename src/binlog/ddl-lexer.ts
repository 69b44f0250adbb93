// Tokenizer and token cursor for the DDL parser (ddl.ts).
//
// MySQL/MariaDB lexical rules that change meaning, not just spelling, are honoured here:
//   - identifiers: unquoted (may start with a digit, not all digits), `back``quoted`, and
//     "double quoted" only under sql_mode ANSI_QUOTES (else "..." is a string)
//   - strings: '' and "" doubling; backslash escapes unless NO_BACKSLASH_ESCAPES; charset
//     introducers (_utf8mb4'x', N'x'); x'..' / 0x.. hex and b'..' / 0b.. bit literals
//   - comments: -- (needs a following blank), #, /* */; optimizer hints /*+ */ are comments
//   - versioned comments /*!NNNNN body */ (MySQL and MariaDB) and /*M!NNNNNN body */
//     (MariaDB only): the server EXECUTED the body when its version >= NNNNN, so the body is
//     tokenized as ordinary text; otherwise it is a comment. MariaDB also skips the MySQL
//     5.7+/8.x range 50700-99999 (versionExecuted). Without a known server version every
//     body the flavour would run is taken as executed (mysqldump's /*!40100 ...*/ clauses are
//     the usual case).
// Executed comment markers are blanked in `clean`, so expression text sliced from it reads as
// the server parsed it.

export const SQL_MODE = {
  REAL_AS_FLOAT: 1n,
  ANSI_QUOTES: 4n,
  ORACLE: 512n,
  MAXDB: 4096n,
  NO_BACKSLASH_ESCAPES: 1n << 20n,
} as const;

export interface LexOptions {
  sqlMode?: bigint;
  flavour?: "mysql" | "mariadb";
  /** Server version as in versioned comments: 80023 for 8.0.23, 101106 for 10.11.6. */
  serverVersion?: number;
  /**
   * The source runs with lower_case_table_names ≠ 0: database and table names are
   * case-insensitive and stored in lower case (row events carry them so), while the logged
   * statement keeps the case its client wrote. Names are then lowered as they are parsed.
   */
  lowerCaseNames?: boolean;
}

type TokenKind = "word" | "ident" | "string" | "number" | "hex" | "bit" | "punct";

interface Token {
  kind: TokenKind;
  /** word: as written; ident: the unquoted name; string: decoded value; hex/bit: the digits; number, punct: as written. */
  text: string;
  /** Upper-cased text of a word, for keyword comparison. */
  upper: string;
  /** Charset introducer of a string literal ("utf8mb4" for _utf8mb4'x', "national" for N'x'). */
  introducer?: string;
  start: number;
  end: number;
}

/**
 * Whether the server ran a versioned comment's body. MariaDB (checked on 10.11) skips the
 * MySQL 5.7+/8.x range 50700-99999 even though its own version number is larger.
 */
function versionExecuted(version: number, opts: LexOptions): boolean {
  if (opts.serverVersion !== undefined && version > opts.serverVersion) return false;
  if (opts.flavour === "mariadb" && version >= 50700 && version < 100000) return false;
  return true;
}

/** A statement this parser cannot read; ddl.ts turns it into { kind: "unparsed" }. */
export class DdlSyntaxError extends Error {}

const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;
const NUMBER = /^(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i;

export function tokenize(sql: string, opts: LexOptions = {}): { tokens: Token[]; clean: string } {
  const mode = opts.sqlMode ?? 0n;
  const ansiQuotes = (mode & SQL_MODE.ANSI_QUOTES) !== 0n;
  const backslash = (mode & SQL_MODE.NO_BACKSLASH_ESCAPES) === 0n;
  const tokens: Token[] = [];
  const blank: Array<[number, number]> = [];
  let inVersioned = false;
  let i = 0;
  const n = sql.length;
  const push = (kind: TokenKind, text: string, start: number, extra: Partial<Token> = {}) =>
    tokens.push({ kind, text, upper: kind === "word" ? text.toUpperCase() : "", start, end: i, ...extra });

  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (inVersioned && sql.startsWith("*/", i)) {
      blank.push([i, i + 2]);
      inVersioned = false;
      i += 2;
      continue;
    }
    if (c === "#" || (c === "-" && sql[i + 1] === "-" && (i + 2 >= n || /[\s\x00-\x1f]/.test(sql[i + 2]!)))) {
      while (i < n && sql[i] !== "\n") i++;
      continue;
    }
    if (sql.startsWith("/*", i)) {
      // The version is exactly 5 digits (MariaDB: 5 or 6); shorter digit runs are body text.
      const m = (opts.flavour === "mysql" ? /^\/\*(M?)!(\d{5})?/ : /^\/\*(M?)!(\d{6}|\d{5})?/).exec(sql.slice(i, i + 10));
      if (m && !inVersioned) {
        if (m[1] === "M" && opts.flavour === "mysql") {
          const end = sql.indexOf("*/", i + 2);
          if (end < 0) throw new DdlSyntaxError("unterminated comment");
          i = end + 2;
          continue;
        }
        const version = m[2] ? Number(m[2]) : 0;
        if (versionExecuted(version, opts)) {
          blank.push([i, i + m[0].length]);
          inVersioned = true;
          i += m[0].length;
          continue;
        }
      }
      const end = sql.indexOf("*/", i + 2);
      if (end < 0) throw new DdlSyntaxError("unterminated comment");
      i = end + 2;
      continue;
    }
    const start = i;
    if (c === "`" || (c === '"' && ansiQuotes)) {
      push("ident", readQuoted(sql, c, false), start);
      continue;
    }
    if (c === "'" || c === '"') {
      push("string", readQuoted(sql, c, backslash), start);
      continue;
    }
    if (WORD.test(c) || (c === "." && /\d/.test(sql[i + 1] ?? "") && !prevIsName(tokens, i))) {
      let j = i;
      while (j < n && WORD.test(sql[j]!)) j++;
      let word = sql.slice(i, j);
      // A fraction or exponent sign continues a number ("1.5", "2e-3"), never a name.
      if (/^\d*$/.test(word) && sql[j] === "." && !prevIsDot(tokens)) {
        j++;
        while (j < n && /[0-9]/.test(sql[j]!)) j++;
        if (/[eE]/.test(sql[j] ?? "")) {
          j++;
          if (/[+-]/.test(sql[j] ?? "")) j++;
          while (j < n && /[0-9]/.test(sql[j]!)) j++;
        }
        word = sql.slice(i, j);
      } else if (/^\d+e$/i.test(word) && /[+-]/.test(sql[j] ?? "") && /\d/.test(sql[j + 1] ?? "")) {
        j += 1;
        while (j < n && /[0-9]/.test(sql[j]!)) j++;
        word = sql.slice(i, j);
      }
      const quote = sql[j];
      if (quote === "'" && /^([xXbBnN]|_[A-Za-z0-9]+)$/.test(word)) {
        i = j;
        const body = readQuoted(sql, "'", backslash && !/^[xXbB]$/.test(word));
        const w = word.toLowerCase();
        if (w === "x") push("hex", checkDigits(body, /^[0-9a-fA-F]*$/, "hex"), start);
        else if (w === "b") push("bit", checkDigits(body, /^[01]*$/, "bit"), start);
        else push("string", body, start, { introducer: w === "n" ? "national" : w.slice(1) });
        continue;
      }
      i = j;
      if (/^0x[0-9a-f]+$/i.test(word) && !prevIsDot(tokens)) push("hex", word.slice(2), start);
      else if (/^0b[01]+$/.test(word) && !prevIsDot(tokens)) push("bit", word.slice(2), start);
      else if (NUMBER.test(word) && !prevIsDot(tokens)) push("number", word, start);
      else push("word", word, start);
      continue;
    }
    i++;
    push("punct", c, start);
  }
  if (inVersioned) throw new DdlSyntaxError("unterminated versioned comment");
  let clean = sql;
  for (const [a, b] of blank) clean = clean.slice(0, a) + " ".repeat(b - a) + clean.slice(b);
  return { tokens, clean };

  function readQuoted(s: string, q: string, escapes: boolean): string {
    let out = "";
    i++;
    for (;;) {
      if (i >= n) throw new DdlSyntaxError(`unterminated ${q} quote`);
      const ch = s[i]!;
      if (ch === q) {
        if (s[i + 1] === q) {
          out += q;
          i += 2;
          continue;
        }
        i++;
        return out;
      }
      if (ch === "\\" && escapes && i + 1 < n) {
        out += unescape(s[i + 1]!);
        i += 2;
        continue;
      }
      out += ch;
      i++;
    }
  }
}

// MySQL string escapes; \% and \_ keep their backslash (they matter only to LIKE).
function unescape(ch: string): string {
  switch (ch) {
    case "0":
      return "\0";
    case "b":
      return "\b";
    case "n":
      return "\n";
    case "r":
      return "\r";
    case "t":
      return "\t";
    case "Z":
      return "\x1a";
    case "%":
    case "_":
      return `\\${ch}`;
    default:
      return ch;
  }
}

function checkDigits(body: string, re: RegExp, what: string): string {
  if (!re.test(body)) throw new DdlSyntaxError(`bad ${what} literal '${body}'`);
  return body;
}

function prevIsDot(tokens: Token[]): boolean {
  const p = tokens.at(-1);
  return p?.kind === "punct" && p.text === ".";
}

// "t.5x" never happens in DDL, but "db.t" must not read ".t" as a number start.
function prevIsName(tokens: Token[], at: number): boolean {
  const p = tokens.at(-1);
  return p !== undefined && p.end === at && (p.kind === "word" || p.kind === "ident");
}

/** Walks a token list; every parse helper in ddl-*.ts works through one of these. */
export class Cursor {
  i = 0;
  /** Session default database, for unqualified table names. */
  database = "";
  constructor(
    readonly tokens: Token[],
    readonly clean: string,
    readonly opts: LexOptions,
  ) {}

  get sqlMode(): bigint {
    return this.opts.sqlMode ?? 0n;
  }

  /** A database or table name as the server stores it (see LexOptions.lowerCaseNames). */
  objectName(name: string): string {
    return this.opts.lowerCaseNames ? name.toLowerCase() : name;
  }
  peek(k = 0): Token | undefined {
    return this.tokens[this.i + k];
  }
  next(): Token {
    const t = this.tokens[this.i];
    if (!t) throw new DdlSyntaxError("unexpected end of statement");
    this.i++;
    return t;
  }
  /** End of statement (a trailing ';' counts as the end). */
  atEnd(): boolean {
    const t = this.peek();
    return t === undefined || (t.kind === "punct" && t.text === ";" && this.i === this.tokens.length - 1);
  }
  isWord(...words: string[]): boolean {
    const t = this.peek();
    return t?.kind === "word" && words.includes(t.upper);
  }
  isWordAt(k: number, ...words: string[]): boolean {
    const t = this.peek(k);
    return t?.kind === "word" && words.includes(t.upper);
  }
  eatWord(...words: string[]): boolean {
    if (!this.isWord(...words)) return false;
    this.i++;
    return true;
  }
  /** Consumes a sequence of keywords only when all of them are next. */
  eatWords(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) if (!this.isWordAt(k, words[k]!)) return false;
    this.i += words.length;
    return true;
  }
  expectWord(...words: string[]): string {
    const t = this.peek();
    if (t?.kind !== "word" || !words.includes(t.upper)) throw this.fail(`expected ${words.join(" or ")}`);
    this.i++;
    return t.upper;
  }
  isPunct(p: string, k = 0): boolean {
    const t = this.peek(k);
    return t?.kind === "punct" && t.text === p;
  }
  eatPunct(p: string): boolean {
    if (!this.isPunct(p)) return false;
    this.i++;
    return true;
  }
  expectPunct(p: string): void {
    if (!this.eatPunct(p)) throw this.fail(`expected '${p}'`);
  }
  /** An identifier: quoted, or an unquoted word (reserved words are the caller's concern). */
  ident(): string {
    const t = this.peek();
    if (t?.kind === "ident" || t?.kind === "word") {
      this.i++;
      return t.text;
    }
    throw this.fail("expected a name");
  }
  isIdent(): boolean {
    const t = this.peek();
    return t?.kind === "ident" || t?.kind === "word";
  }
  /** A string literal, with adjacent literals concatenated as the server does ('a' 'b'). */
  string(): string {
    const t = this.peek();
    if (t?.kind !== "string") throw this.fail("expected a string");
    let s = "";
    while (this.peek()?.kind === "string") s += this.next().text;
    return s;
  }
  integer(): number {
    const t = this.next();
    if (t.kind !== "number" || !/^\d+$/.test(t.text)) throw this.fail(`expected a number, found '${t.text}'`, t);
    return Number(t.text);
  }
  /** Optional `=` between an option name and its value. */
  eatEquals(): void {
    this.eatPunct("=");
  }
  /** Consumes one token, or a whole parenthesised group. */
  skipItem(): void {
    if (this.isPunct("(")) {
      this.skipBalanced();
      return;
    }
    this.next();
  }
  /** At '(': consumes up to and including the matching ')'. */
  skipBalanced(): void {
    this.expectPunct("(");
    let depth = 1;
    while (depth > 0) {
      const t = this.next();
      if (t.kind === "punct" && t.text === "(") depth++;
      else if (t.kind === "punct" && t.text === ")") depth--;
    }
  }
  /** Consumes until a top-level ',' or ')' or the end (not consumed). */
  skipToSeparator(): void {
    while (!this.atEnd() && !this.isPunct(",") && !this.isPunct(")")) this.skipItem();
  }
  /** Text of tokens [from, to) as the server read it (executed version markers blanked). */
  textBetween(from: number, to: number): string {
    if (to <= from) return "";
    return this.clean.slice(this.tokens[from]!.start, this.tokens[to - 1]!.end).trim();
  }
  /** At '(': the text inside the parentheses; consumes them. */
  parenthesisedText(): string {
    const open = this.i;
    this.skipBalanced();
    return this.textBetween(open + 1, this.i - 1);
  }
  restText(): string {
    const end = this.atEnd() && this.peek() ? this.tokens.length - 1 : this.tokens.length;
    const text = this.textBetween(this.i, end);
    this.i = this.tokens.length;
    return text;
  }
  fail(message: string, at: Token | undefined = this.peek()): DdlSyntaxError {
    const where = at ? ` at '${this.clean.slice(at.start, at.start + 30)}'` : " at the end";
    return new DdlSyntaxError(`${message}${where}`);
  }
}

export function cursorFor(sql: string, opts: LexOptions = {}): Cursor {
  const { tokens, clean } = tokenize(sql, opts);
  return new Cursor(tokens, clean, opts);
}
