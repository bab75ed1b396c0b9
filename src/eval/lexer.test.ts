import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lex } from './lexer.js';
import { Source } from './source.js';

/** The tokens of `text`, each as KIND:text (or just the text for keywords and operators). */
function show(text: string): string {
  return lex(new Source('/f.nix', text))
    .map((t) => {
      if (t.k === 'LEXERR') return `LEXERR:${t.err!.message}@${t.off}`;
      return t.k === t.v ? t.k : `${t.k}:${t.v}`;
    })
    .join(' ');
}

function check(cases: [string, string][]): void {
  for (const [text, tokens] of cases) assert.equal(show(text), tokens, JSON.stringify(text));
}

test('numbers: the longest of an integer and a float', () => {
  check([
    ['1.', 'FLOAT:1. EOF:'],
    ['.5', 'FLOAT:.5 EOF:'],
    ['0.5', 'FLOAT:0.5 EOF:'],
    // No float starts with two digits when the first is 0.
    ['01.5', 'INT:01 FLOAT:.5 EOF:'],
    ['00.5', 'INT:00 FLOAT:.5 EOF:'],
    ['0.e1', 'INT:0 . ID:e1 EOF:'],
    // An exponent needs the dot, and digits.
    ['1e5', 'INT:1 ID:e5 EOF:'],
    ['1.2e', 'FLOAT:1.2 ID:e EOF:'],
    ['1.2e+3', 'FLOAT:1.2e+3 EOF:'],
    ['1.5E-2x', 'FLOAT:1.5E-2 ID:x EOF:'],
    ['1..2', 'FLOAT:1. FLOAT:.2 EOF:'],
    ['-1', '- INT:1 EOF:'],
    ['+1', '+ INT:1 EOF:'],
  ]);
});

test('identifiers and keywords', () => {
  check([
    ["a'b-c' d_e a-1", "ID:a'b-c' ID:d_e ID:a-1 EOF:"],
    ['inherit or orx inheritx x-or', 'inherit or ID:orx ID:inheritx ID:x-or EOF:'],
    ['if then else assert with let in rec', 'if then else assert with let in rec EOF:'],
    ['a.b.c', 'ID:a . ID:b . ID:c EOF:'],
  ]);
});

test('operators', () => {
  check([
    ['...', '... EOF:'],
    ['&& || == != >= <= > < -> ++ //', '&& || == != >= <= > < -> ++ // EOF:'],
    ['a<=b', 'ID:a <= ID:b EOF:'],
    ['x@{ }', 'ID:x @ { } EOF:'],
    ['${', '${ EOF:'],
    ['$x', '$ ID:x EOF:'],
    ["'x", "' ID:x EOF:"],
    ['\x80', '\x80 EOF:'],
  ]);
});

test('`//` is an operator, `a/b` a path', () => {
  check([
    ['a // b', 'ID:a // ID:b EOF:'],
    ['a//b', 'ID:a // ID:b EOF:'],
    ['a/b', 'PATH:a/b PATH_END: EOF:'],
    ['a /b', 'ID:a PATH:/b PATH_END: EOF:'],
    ['a.b/c', 'PATH:a.b/c PATH_END: EOF:'],
  ]);
});

test('paths, search paths and URIs', () => {
  check([
    ['./a', 'PATH:./a PATH_END: EOF:'],
    ['/a/b', 'PATH:/a/b PATH_END: EOF:'],
    ['~/a', 'HPATH:~/a PATH_END: EOF:'],
    ['~/${x}', 'HPATH:~/ ${ ID:x } PATH_END: EOF:'],
    ['./a/${b}/c', 'PATH:./a/ ${ ID:b } STR:/c PATH_END: EOF:'],
    // At a character the trailing slash is reported there, at the end of the file at the path.
    ['./a/ ', 'PATH:./a/ LEXERR:path has a trailing slash@4'],
    ['./a/', 'PATH:./a/ LEXERR:path has a trailing slash@0'],
    ['../a/b/', 'PATH:../a/b/ LEXERR:path has a trailing slash@0'],
    ['<nixpkgs/x>', 'SPATH:<nixpkgs/x> EOF:'],
    ['< nixpkgs', '< ID:nixpkgs EOF:'],
    ['https://x.org/p?q=1', 'URI:https://x.org/p?q=1 EOF:'],
    // A URI needs a URI character after the colon.
    ['x: y', 'ID:x : ID:y EOF:'],
    ['x:y', 'URI:x:y EOF:'],
    ['f:x:1', 'URI:f:x:1 EOF:'],
  ]);
});

test("a path's text goes on in lexer.l's pieces: {PATH}, {PATH_SEG} or {PATH_CHAR}+", () => {
  check([
    ['/a//b', 'PATH:/a/ STR:/b PATH_END: EOF:'],
    ['/tix/case//m//more', 'PATH:/tix/case/ STR:/m/ STR:/more PATH_END: EOF:'],
    ['/a///', 'PATH:/a/ STR:/ STR:/ LEXERR:path has a trailing slash@4'],
    ['a/${x}//c.d/e', 'PATH:a/ ${ ID:x } STR:/ STR:/c.d/e PATH_END: EOF:'],
    ['a/${x}c/${y}', 'PATH:a/ ${ ID:x } STR:c/ ${ ID:y } PATH_END: EOF:'],
  ]);
  // PATH_END is where Nix 2.8's lexer puts it back: at the last token before the character that
  // ends the path, or at the end of the file the lexeme before that (a run of whitespace too).
  const pathEnd = (text: string) => lex(new Source('/f.nix', text)).find((t) => t.k === 'PATH_END')!.off;
  const cases: [string, number][] = [
    ['(/a//b)', 4],
    ['(/a//b', 1],
    ['[ /a/b', 1],
    ['[ /a/${"x"}', 9],
    ['[ /a/${"x" }', 10],
    ['[ /a/${"x"}b', 10],
  ];
  for (const [text, off] of cases) assert.equal(pathEnd(text), off, JSON.stringify(text));
});

test('comments and line ends', () => {
  check([
    ['# c\nx', 'ID:x EOF:'],
    ['# c\rx', 'ID:x EOF:'],
    ['/* c */x', 'ID:x EOF:'],
    ['/* a */ /**/ # b\n x', 'ID:x EOF:'],
    // An unterminated comment is no comment.
    ['/* c', '/ * ID:c EOF:'],
    ['a/*b', 'ID:a / * ID:b EOF:'],
    ['1\r\n#c\r2', 'INT:1 INT:2 EOF:'],
  ]);
  const toks = lex(new Source('/f.nix', 'a # x\r\n/* y */ b'));
  assert.deepEqual(
    toks.map((t) => t.off),
    [0, 15, 15],
  );
});

test('an unexpected end of file is where Nix 2.8 reports it: the last lexeme', () => {
  const eof = (text: string) => lex(new Source('/f.nix', text)).at(-1)!.off;
  // Each offset was read off nix-instantiate 2.8's error for the text.
  const cases: [string, number][] = [
    ['', 0],
    ['   ', 0],
    ['# x', 0],
    ['{ a = 1;', 7],
    ['{ a = 1;   ', 8],
    ['{ a = 1;\n\n  ', 8],
    ['{ a = 1; # x', 9],
    ['{ a = 1;  /* x */', 10],
    ['{ a = 1;  /* x */  ', 17],
    ['{ a = 1; # y\n# z\n', 16],
    ['"abc', 1],
    ["''", 0],
    ["'' abc", 2],
    ['"${x}', 4],
    ['"${x}a$', 6],
    ['[ /a/b', 1],
  ];
  for (const [text, off] of cases) assert.equal(eof(text), off, JSON.stringify(text));
});

test('strings', () => {
  check([
    ['"a${b}c"', 'STR_OPEN:" STR:a ${ ID:b } STR:c STR_CLOSE:" EOF:'],
    ["''\n  a\n''", "IND_OPEN:'' IND_STR:  a\n IND_CLOSE:'' EOF:"],
    ["'' a''", "IND_OPEN:'' IND_STR: a IND_CLOSE:'' EOF:"],
    // A piece cut by the end of the file is a token of its own: a lone `$`, `\` or `$\`.
    ['"a$', 'STR_OPEN:" STR:a STR:$ EOF:'],
    ['"a\\', 'STR_OPEN:" STR:a STR:\\ EOF:'],
    ['"a$\\', 'STR_OPEN:" STR:a STR:$\\ EOF:'],
    ['"$', 'STR_OPEN:" STR:$ EOF:'],
    ['"a$$', 'STR_OPEN:" STR:a$$ EOF:'],
    ['"a\\$', 'STR_OPEN:" STR:a$ EOF:'],
  ]);
});
