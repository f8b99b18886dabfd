/**
 * Reads a `manifest.yml` for the doctor: the YAML that manifests are written in (block mappings and
 * sequences, flow `[…]` and `{…}`, plain, single- and double-quoted scalars, comments), not all of YAML.
 * Anchors, aliases, tags, block scalars (`|`, `>`), multi-line plain scalars and more than one document
 * are refused with a `ManifestYamlError` naming the line, never misread. At most 200 KiB (Forge's
 * manifest limit) and 64 levels deep.
 */
export class ManifestYamlError extends Error {
  override readonly name = 'ManifestYamlError';
}

interface Line {
  indent: number;
  text: string;
  number: number;
}

const MAX_BYTES = 200 * 1024;
const MAX_DEPTH = 64;

export function readForgeManifestYaml(source: string): unknown {
  if (Buffer.byteLength(source) > MAX_BYTES) throw new ManifestYamlError(`The manifest is larger than ${MAX_BYTES} bytes, Forge's limit.`);
  const lines: Line[] = [];
  source
    .replace(/^\ufeff/, '')
    .split(/\r?\n/)
    .forEach((raw, index) => {
      if (raw.includes('\t') && /^\s*\t/.test(raw)) throw new ManifestYamlError(`Line ${index + 1}: tabs cannot indent YAML.`);
      const text = raw.trim();
      if (text === '' || text.startsWith('#')) return;
      if (text === '---' && lines.length === 0) return;
      if (text === '---' || text === '...') throw new ManifestYamlError(`Line ${index + 1}: only one YAML document is read.`);
      lines.push({ indent: raw.length - raw.trimStart().length, text: raw.trimStart().trimEnd(), number: index + 1 });
    });
  if (lines.length === 0) return null;
  const state = { lines, at: 0 };
  const value = parseBlock(state, lines[0]!.indent, 0);
  if (state.at < lines.length) throw new ManifestYamlError(`Line ${lines[state.at]!.number}: unexpected indentation.`);
  return value;
}

function parseBlock(state: { lines: Line[]; at: number }, indent: number, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ManifestYamlError(`The manifest nests deeper than ${MAX_DEPTH}.`);
  const first = state.lines[state.at]!;
  return isDash(first.text) ? parseSequence(state, indent, depth) : parseMapping(state, indent, depth);
}

function isDash(text: string): boolean {
  return text === '-' || text.startsWith('- ');
}

function parseSequence(state: { lines: Line[]; at: number }, indent: number, depth: number): unknown[] {
  const items: unknown[] = [];
  while (state.at < state.lines.length) {
    const line = state.lines[state.at]!;
    if (line.indent !== indent || !isDash(line.text)) break;
    const rest = line.text.slice(1).trimStart();
    if (rest === '' || rest.startsWith('#')) {
      state.at++;
      items.push(nestedOrNull(state, indent, depth));
    } else if (keyEnd(rest) !== undefined) {
      // `- key: value`: a mapping whose first line starts where the text after the dash does.
      state.lines[state.at] = { indent: indent + (line.text.length - rest.length), text: rest, number: line.number };
      items.push(parseMapping(state, indent + (line.text.length - rest.length), depth + 1));
    } else {
      state.at++;
      items.push(parseInline(rest, line.number));
    }
  }
  return items;
}

function parseMapping(state: { lines: Line[]; at: number }, indent: number, depth: number): Record<string, unknown> {
  const mapping: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  while (state.at < state.lines.length) {
    const line = state.lines[state.at]!;
    if (line.indent < indent) break;
    if (line.indent > indent) throw new ManifestYamlError(`Line ${line.number}: unexpected indentation.`);
    if (isDash(line.text)) break;
    const end = keyEnd(line.text);
    if (end === undefined) throw new ManifestYamlError(`Line ${line.number}: expected "key: value".`);
    const key = parseKey(line.text.slice(0, end), line.number);
    if (Object.hasOwn(mapping, key)) throw new ManifestYamlError(`Line ${line.number}: the key ${JSON.stringify(key)} appears twice.`);
    const rest = line.text.slice(end + 1).trim();
    state.at++;
    if (rest === '' || rest.startsWith('#')) {
      const next = state.lines[state.at];
      // A sequence may sit at its key's own indentation.
      mapping[key] = next !== undefined && next.indent === indent && isDash(next.text) ? parseSequence(state, indent, depth + 1) : nestedOrNull(state, indent, depth);
    } else {
      mapping[key] = parseInline(rest, line.number);
    }
  }
  return { ...mapping };
}

function nestedOrNull(state: { lines: Line[]; at: number }, indent: number, depth: number): unknown {
  const next = state.lines[state.at];
  return next !== undefined && next.indent > indent ? parseBlock(state, next.indent, depth + 1) : null;
}

/** Where the `:` ending a key is (outside quotes, followed by a space or the end), if the line has one. */
function keyEnd(text: string): number | undefined {
  if (text.startsWith('"') || text.startsWith("'")) {
    const close = quotedEnd(text, 0);
    return close !== undefined && /^\s*:(\s|$)/.test(text.slice(close)) ? text.indexOf(':', close) : undefined;
  }
  if (/^[[{&*!|>%@`]/.test(text)) return undefined;
  const match = /:(\s|$)/.exec(text);
  if (match === null || text.slice(0, match.index).includes(' #')) return undefined;
  return match.index;
}

function parseKey(raw: string, line: number): string {
  const text = raw.trim();
  if (text.startsWith('"') || text.startsWith("'")) return parseQuoted(text, 0, line).value;
  if (text === '') throw new ManifestYamlError(`Line ${line}: an empty key.`);
  return text;
}

/** Index just past a quoted scalar starting at `start`, or undefined when it does not close on this line. */
function quotedEnd(text: string, start: number): number | undefined {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else return i + 1;
    }
  }
  return undefined;
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\x85',
  _: '\xa0',
  L: '\u2028',
  P: '\u2029',
};

function parseQuoted(text: string, start: number, line: number): { value: string; end: number } {
  const end = quotedEnd(text, start);
  if (end === undefined) throw new ManifestYamlError(`Line ${line}: a quoted string does not end on its line (multi-line strings are not read).`);
  const body = text.slice(start + 1, end - 1);
  if (text[start] === "'") return { value: body.replace(/''/g, "'"), end };
  const value = body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_, escape: string) => {
    if (escape.length > 1) return String.fromCodePoint(parseInt(escape.slice(1), 16));
    const known = ESCAPES[escape];
    if (known === undefined) throw new ManifestYamlError(`Line ${line}: unknown escape \\${escape}.`);
    return known;
  });
  return { value, end };
}

/** A value on the rest of a line: flow collection, quoted or plain scalar, then only a comment. */
function parseInline(text: string, line: number): unknown {
  const reader = { text, at: 0, line };
  const value = readFlowValue(reader, false, 0);
  const rest = text.slice(reader.at).trim();
  if (rest !== '' && !rest.startsWith('#')) throw new ManifestYamlError(`Line ${line}: unexpected ${JSON.stringify(rest)}.`);
  return value;
}

function skipSpaces(reader: { text: string; at: number }): void {
  while (reader.text[reader.at] === ' ') reader.at++;
}

function readFlowValue(reader: { text: string; at: number; line: number }, inFlow: boolean, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ManifestYamlError(`The manifest nests deeper than ${MAX_DEPTH}.`);
  skipSpaces(reader);
  const c = reader.text[reader.at];
  if (c === '[' || c === '{') {
    const close = c === '[' ? ']' : '}';
    reader.at++;
    const list: unknown[] = [];
    const map: Record<string, unknown> = {};
    for (;;) {
      skipSpaces(reader);
      if (reader.text[reader.at] === close) {
        reader.at++;
        return c === '[' ? list : map;
      }
      if (c === '[') list.push(readFlowValue(reader, true, depth + 1));
      else {
        const key = readFlowValue(reader, true, depth + 1);
        skipSpaces(reader);
        if (reader.text[reader.at] !== ':') throw new ManifestYamlError(`Line ${reader.line}: expected ":" in a flow mapping.`);
        reader.at++;
        map[String(key)] = readFlowValue(reader, true, depth + 1);
      }
      skipSpaces(reader);
      if (reader.text[reader.at] === ',') reader.at++;
      else if (reader.text[reader.at] !== close) throw new ManifestYamlError(`Line ${reader.line}: expected "," or "${close}".`);
    }
  }
  if (c === '"' || c === "'") {
    const { value, end } = parseQuoted(reader.text, reader.at, reader.line);
    reader.at = end;
    return value;
  }
  if (c !== undefined && /[&*!|>%@`]/.test(c)) throw new ManifestYamlError(`Line ${reader.line}: anchors, aliases, tags and block scalars are not read.`);
  const start = reader.at;
  while (reader.at < reader.text.length) {
    const here = reader.text[reader.at]!;
    if (inFlow && (here === ',' || here === ']' || here === '}' || (here === ':' && /[\s,\]}]/.test(reader.text[reader.at + 1] ?? ' ')))) break;
    if (here === '#' && reader.text[reader.at - 1] === ' ') break;
    reader.at++;
  }
  return plainScalar(reader.text.slice(start, reader.at).trim());
}

function plainScalar(text: string): unknown {
  if (text === '' || text === '~' || /^(null|Null|NULL)$/.test(text)) return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(text) || /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  return text;
}
