import { describe, expect, it } from 'vitest';
import { analyzeConfig, formatIssue } from '../src/config/index.js';

const FILE = 'config.xml';
const errorsOf = (xml: string): string[] =>
  analyzeConfig(xml, FILE, { env: {} })
    .issues.filter((i) => i.severity === 'error')
    .map(formatIssue);

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE clients [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<clients><client ip="10.0.0.5" username="&lol9;" agent="true"/></clients>`;

describe('XML safety', () => {
  it('rejects a DOCTYPE with entities (billion laughs) at its line, expanding nothing', () => {
    // Refused before any entity is read: nothing to expand, however deep the nesting.
    expect(errorsOf(BILLION_LAUGHS)).toEqual(['config.xml:2: DOCTYPE is not allowed (entities are never expanded)']);
  });

  it('rejects an external entity (XXE)', () => {
    const xml =
      '<!DOCTYPE clients [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<clients><client ip="10.0.0.5" username="&x;" agent="true"/></clients>';
    expect(errorsOf(xml)).toEqual(['config.xml:1: DOCTYPE is not allowed (entities are never expanded)']);
  });

  it('rejects even a plain DOCTYPE without an internal subset', () => {
    expect(errorsOf('<?xml version="1.0"?>\n\n<!DOCTYPE clients>\n<clients/>')).toEqual([
      'config.xml:3: DOCTYPE is not allowed (entities are never expanded)',
    ]);
  });

  it('does not mistake a DOCTYPE inside a comment for one', () => {
    expect(errorsOf('<!-- no <!DOCTYPE here -->\n<clients/>')).toEqual([]);
  });

  it('refuses an undefined entity reference as malformed XML', () => {
    expect(errorsOf('<clients>\n<client ip="10.0.0.5" username="&who;" agent="true"/>\n</clients>')).toEqual([
      'config.xml:2: malformed XML: undefined entity',
    ]);
  });

  it('decodes the five predefined entities', () => {
    const config = analyzeConfig(
      '<clients><client ip="10.0.0.5" username="a&amp;b&lt;&gt;&quot;&apos;" agent="true"/></clients>',
      FILE,
    ).config;
    expect(config?.clients[0]?.username).toBe('a&b<>"\'');
  });

  it("reports malformed XML at the parser's line", () => {
    expect(errorsOf('<clients>\n<client ip="10.0.0.5" username="ops" agent="true">\n\n</clients>')).toEqual([
      'config.xml:4: malformed XML: unexpected close tag',
    ]);
  });

  it('reports a duplicate attribute as malformed XML', () => {
    expect(errorsOf('<clients>\n<client ip="1" ip="2"/>\n</clients>')).toEqual([
      'config.xml:2: malformed XML: duplicate attribute: ip',
    ]);
  });

  it('accepts a byte-order mark and CRLF line ends, and still counts lines right', () => {
    expect(
      errorsOf('\uFEFF<clients>\r\n\r\n<client ip="10.0.0.1" port="x" username="u" agent="true"/>\r\n</clients>\r\n'),
    ).toEqual(['config.xml:3: client port "x" is not a port (a whole number from 1 to 65535)']);
  });

  it('reports an empty file', () => {
    expect(errorsOf('')).toEqual(['config.xml:1: malformed XML: document must contain a root element']);
  });
});

describe('typographic quotes pasted from documents', () => {
  it('reads “ ” around a value as plain quotes with a warning on its line, and validates the rest', () => {
    const xml =
      '<clients>\n<client ip=“10.0.0.1” username="ops" agent="true"/>\n<client ip="10.0.0.2" port="x" username="ops" agent="true"/>\n</clients>';
    const issues = analyzeConfig(xml, FILE, { env: {} }).issues;
    expect(issues.map(formatIssue)).toEqual([
      'config.xml:2: typographic quotes used around attribute values (ip); read them as plain quotes, as standard XML writes ip="10.0.0.1"; `fleetstat config check --fix` rewrites the file',
      'config.xml:3: client port "x" is not a port (a whole number from 1 to 65535)',
    ]);
    expect(issues[0]!.severity).toBe('warning');
  });

  it('keeps ‘ ’ “ ” inside a properly quoted value: a name, a password', () => {
    const xml =
      '<clients>\n<client ip="10.0.0.1" username="ops" name="Bob’s box" password="pa“ss”’‘w" mail="a@b.test"/>\n<client ip="10.0.0.2" username="ops" agent="true" name=\'web‘1’ “x”\'/>\n</clients>';
    const analysis = analyzeConfig(xml, FILE, { env: {} });
    expect(analysis.issues.filter((i) => i.severity === 'error').map(formatIssue)).toEqual([]);
    expect(analysis.config?.clients.map((c) => c.name)).toEqual(['Bob’s box', 'web‘1’ “x”']);
    expect(analysis.config?.clients[0]!.password).toBe('pa“ss”’‘w');
  });

  it('reads “ ” around a value that holds an apostrophe as plain quotes, keeping the apostrophe', () => {
    const xml = '<clients>\n<client ip="10.0.0.1" username="ops" agent="true" name=“Bob’s box”/>\n</clients>';
    const result = analyzeConfig(xml, FILE, { env: {} });
    expect(result.issues.map((i) => [i.line, i.severity])).toEqual([[2, 'warning']]);
    expect(result.config?.clients.map((c) => c.name)).toEqual(['Bob’s box']);
  });

  it('reports a typographic quote closing a plainly opened value', () => {
    const xml =
      '<clients>\n<client ip="10.0.0.1” username="ops" agent="true"/>\n<client ip="10.0.0.2" username="ops" agent="true" name=\'db’/>\n</clients>';
    const issues = analyzeConfig(xml, FILE, { env: {} }).issues.filter((i) => i.severity === 'error');
    expect(issues.map(formatIssue)).toEqual([
      'config.xml:2: typographic quote ” used as an attribute delimiter; use plain " or \'',
      'config.xml:3: typographic quote ’ used as an attribute delimiter; use plain " or \'',
    ]);
    expect(issues[0]!.column).toBe(21);
  });

  it('warns once on each line whose delimiters are typographic, and loads the clients', () => {
    const xml =
      '<clients>\n<client ip=”10.0.0.1” username=”ops” agent="true"/>\n<client ip=’10.0.0.2’ username="ops" agent="true" name=’db’/>\n</clients>';
    const result = analyzeConfig(xml, FILE, { env: {} });
    expect(result.issues.map((i) => [i.line, i.severity])).toEqual([
      [2, 'warning'],
      [3, 'warning'],
    ]);
    expect(result.config?.clients.map((c) => [c.ip, c.username, c.name])).toEqual([
      ['10.0.0.1', 'ops', '10.0.0.1'],
      ['10.0.0.2', 'ops', 'db'],
    ]);
  });

  it('never echoes a secret value as the example', () => {
    const issues = analyzeConfig(
      '<clients>\n<client ip="10.0.0.1" username="ops" password=’hunter2’/>\n</clients>',
      FILE,
      { env: {} },
    ).issues;
    expect(issues[0]!.message).toBe(
      'typographic quotes used around attribute values (password); read them as plain quotes, as standard XML writes name="value"; `fleetstat config check --fix` rewrites the file',
    );
    expect(issues.map((i) => i.message).join('\n')).not.toContain('hunter2');
  });

  it('leaves them alone in comments', () => {
    expect(
      errorsOf('<clients>\n<!-- Bob’s “web” box -->\n<client ip="10.0.0.1" username="ops" agent="true"/>\n</clients>'),
    ).toEqual([]);
  });
});
