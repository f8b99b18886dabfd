/**
 * Writes manifest data as YAML: block mappings and sequences, every string double-quoted (so no value
 * is read back as a number, boolean, null or YAML syntax), keys plain only when they are plain words
 * such as `jira:generalPages`. Only JSON-like data: strings, finite numbers, booleans, null, arrays and
 * plain objects; anything else throws a TypeError. The output is at most `maxBytes` long.
 */
export function toForgeManifestYaml(value: Record<string, unknown>, maxBytes = 200 * 1024): string {
  const lines: string[] = [];
  writeMapping(value, 0, lines, new Set());
  const text = `${lines.join('\n')}\n`;
  if (Buffer.byteLength(text) > maxBytes) throw new RangeError(`The manifest is ${Buffer.byteLength(text)} bytes; Forge takes at most ${maxBytes}.`);
  return text;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*(:[A-Za-z0-9_.-]+)*$/;
const MAX_DEPTH = 64;

function writeMapping(object: Record<string, unknown>, indent: number, lines: string[], path: Set<unknown>, firstPrefix?: string): void {
  const entries = Object.entries(object).filter(([, v]) => v !== undefined);
  entries.forEach(([key, child], index) => {
    const pad = index === 0 && firstPrefix !== undefined ? firstPrefix : ' '.repeat(indent);
    const head = `${pad}${PLAIN_KEY.test(key) ? key : quote(key)}:`;
    if (isContainer(child) && !isEmpty(child)) {
      lines.push(head);
      writeNode(child, indent + 2, lines, path);
    } else {
      lines.push(`${head} ${scalar(child)}`);
    }
  });
}

function writeNode(value: object, indent: number, lines: string[], path: Set<unknown>): void {
  if (path.has(value)) throw new TypeError('The manifest data refers to itself.');
  if (path.size >= MAX_DEPTH) throw new TypeError(`The manifest data nests deeper than ${MAX_DEPTH}.`);
  path.add(value);
  if (Array.isArray(value)) {
    for (const item of value as unknown[]) {
      const dash = `${' '.repeat(indent)}- `;
      if (isContainer(item) && !isEmpty(item)) {
        if (Array.isArray(item)) {
          lines.push(dash.trimEnd());
          writeNode(item, indent + 2, lines, path);
        } else {
          if (path.has(item)) throw new TypeError('The manifest data refers to itself.');
          path.add(item);
          writeMapping(item as Record<string, unknown>, indent + 2, lines, path, dash);
          path.delete(item);
        }
      } else {
        lines.push(`${dash}${scalar(item)}`);
      }
    }
  } else {
    writeMapping(value as Record<string, unknown>, indent, lines, path);
  }
  path.delete(value);
}

function isContainer(value: unknown): value is object {
  if (Array.isArray(value)) return true;
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null)
    throw new TypeError(`A ${(value as object).constructor?.name ?? 'non-plain'} object cannot be written as manifest YAML.`);
  return true;
}

function isEmpty(value: object): boolean {
  return Array.isArray(value) ? value.length === 0 : Object.values(value).every((v) => v === undefined);
}

function scalar(value: unknown): string {
  if (Array.isArray(value)) return '[]';
  if (value !== null && typeof value === 'object') return '{}';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new TypeError(`${typeof value === 'number' ? String(value) : typeof value} cannot be written as manifest YAML.`);
}

/**
 * A YAML double-quoted scalar. JSON's escapes are all YAML escapes; YAML also wants the characters it
 * does not count as printable (DEL, C1 controls, U+FEFF, lone surrogates) escaped, which JSON leaves raw.
 */
function quote(text: string): string {
  return JSON.stringify(text).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
