// Reads the runnable examples out of a package README, and checks a run's output against the
// output the README shows. The conventions (one per kind of fenced block):
// - ```sh starting with `npm install A B`: installs A, B; its other lines are commands to run;
// - ```js whose first line is `// FILE — run with: COMMAND`: saved as FILE, COMMAND runs it;
// - the ```text block right after one of those: lines its run prints, in this order. `…` stands
//   for any text; integers match exactly, decimals within 0.5 % or two units of their last
//   printed digit (backends sum in different orders).
import { Lexer, type Tokens } from 'marked';

export interface ReadmeExample {
  /** Where it is, for messages: `example.mjs` or `sh block 2`. */
  label: string;
  /** Packages named by `npm install` (sh blocks only). */
  installs: string[];
  /** File to save the source as (js blocks). */
  file?: string;
  source?: string;
  /** Shell commands, run in order in the project folder. */
  commands: string[];
  /** Lines the commands print, in order (empty: only the exit codes are checked). */
  expected: string[];
}

const RUN_WITH = /^\/\/ (\S+) — run with: (.+?)\s*$/;

/** The examples of a README, in order of appearance. */
export function readmeExamples(markdown: string): ReadmeExample[] {
  const blocks = Lexer.lex(markdown).filter((t): t is Tokens.Code => t.type === 'code');
  const examples: ReadmeExample[] = [];
  blocks.forEach((block, i) => {
    const example = exampleOf(block, i);
    if (!example) return;
    const next = blocks[i + 1];
    if (next?.lang === 'text') example.expected = nonEmptyLines(next.text);
    examples.push(example);
  });
  return examples;
}

function exampleOf(block: Tokens.Code, index: number): ReadmeExample | undefined {
  const lines = block.text.split('\n');
  if (block.lang === 'sh' && /^npm install\s/.test(lines[0])) {
    const installs = lines[0]
      .replace(/#.*/, '')
      .split(/\s+/)
      .slice(2)
      .filter((w) => w && !w.startsWith('-'));
    const commands = joinContinuations(lines.slice(1)).filter((l) => l.trim() && !l.trim().startsWith('#'));
    return { label: `sh block ${index + 1}`, installs, commands, expected: [] };
  }
  const run = block.lang === 'js' ? RUN_WITH.exec(lines[0]) : null;
  if (!run) return undefined;
  return {
    label: run[1],
    installs: [],
    file: run[1],
    source: `${block.text}\n`,
    commands: [run[2]],
    expected: [],
  };
}

function joinContinuations(lines: string[]): string[] {
  const out: string[] = [];
  let pending = '';
  for (const line of lines) {
    if (line.endsWith('\\')) pending += `${line.slice(0, -1)} `;
    else {
      out.push(pending + line);
      pending = '';
    }
  }
  if (pending) out.push(pending);
  return out;
}

function nonEmptyLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** Bare package names a module imports (`node:` built-ins left out), e.g. `@squid-ad/backend`. */
export function importedPackages(source: string): string[] {
  const specifiers = [...source.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map(
    (m) => m[1],
  );
  const names = specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('/') && !s.startsWith('node:'))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]));
  return [...new Set(names)];
}

const NUMBER = /-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi;

/**
 * Checks that `expected` lines occur in `output` in order (other lines may come between).
 * Returns undefined when they do, else which expected line was not found.
 */
export function matchOutput(expected: string[], output: string): string | undefined {
  const actual = output.split('\n');
  let from = 0;
  for (const line of expected) {
    const found = actual.findIndex((a, i) => i >= from && lineMatches(line.trim(), a.trim()));
    if (found < 0) return `no line after output line ${from + 1} matches: ${line.trim()}`;
    from = found + 1;
  }
  return undefined;
}

function lineMatches(expected: string, actual: string): boolean {
  const numbers: string[] = [];
  const pattern = expected
    .split('…')
    .map((part) => {
      let out = '';
      let last = 0;
      for (const m of part.matchAll(NUMBER)) {
        out += escapeRegExp(part.slice(last, m.index)) + `(${NUMBER.source})`;
        numbers.push(m[0]);
        last = (m.index ?? 0) + m[0].length;
      }
      return out + escapeRegExp(part.slice(last));
    })
    .join('.*?');
  const m = new RegExp(`^${pattern}$`, 'i').exec(actual);
  if (!m) return false;
  return numbers.every((want, i) => numberClose(want, m[i + 1]));
}

function numberClose(want: string, got: string): boolean {
  if (want === got) return true;
  // Counts, shapes and indices are exact; only measured decimals may drift between backends.
  if (!/[.e]/i.test(want)) return false;
  const w = Number(want);
  const g = Number(got);
  const decimals = /\.(\d+)/.exec(want.replace(/e.*$/i, ''))?.[1].length ?? 0;
  const unit = 10 ** -decimals * 10 ** Number(/e([-+]?\d+)$/i.exec(want)?.[1] ?? 0);
  return Math.abs(w - g) <= Math.max(0.005 * Math.abs(w), 2 * unit);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
