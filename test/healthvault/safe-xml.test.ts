import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { HvgError } from '../../src/errors.ts';
import { parseXml, rawXml } from '../../src/healthvault/safe-xml.ts';

const dir = new URL('../fixtures/healthvault/', import.meta.url);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof HvgError) return err.code;
    return `NOT-HVG: ${String(err)}`;
  }
  return 'accepted';
}

t.test('every XML fixture parses, from bytes and from a string', async (t) => {
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.xml'))) {
    const bytes = readFileSync(new URL(name, dir));
    const a = parseXml(bytes);
    const b = parseXml(bytes.toString('utf8'));
    t.equal(a.name, b.name, name);
    t.equal(rawXml(a).length > 0, true, name);
  }
});

t.test('namespaces are resolved; the prefix is irrelevant', async (t) => {
  const a = parseXml('<wc:notifications xmlns:wc="urn:com.microsoft.wc.notification"><notification/></wc:notifications>');
  const b = parseXml('<n:notifications xmlns:n="urn:com.microsoft.wc.notification"><notification/></n:notifications>');
  const c = parseXml('<notifications xmlns="urn:com.microsoft.wc.notification"><notification xmlns=""/></notifications>');
  for (const root of [a, b, c]) {
    t.equal(root.ns, 'urn:com.microsoft.wc.notification');
    t.equal(root.local, 'notifications');
    t.equal(root.children[0]?.ns, '');
    t.equal(root.children[0]?.local, 'notification');
  }
  t.equal(b.prefix, 'n');
  const inner = parseXml('<a xmlns:p="urn:x"><p:b><c/></p:b></a>');
  t.equal(inner.children[0]?.ns, 'urn:x');
  t.equal(inner.children[0]?.children[0]?.ns, '', 'unprefixed child stays in no namespace');
  t.equal(code(() => parseXml('<p:a/>')), 'HVG_ERR_XML_MALFORMED', 'undeclared prefix');
  t.equal(code(() => parseXml('<a xmlns:p=""/>')), 'HVG_ERR_XML_MALFORMED', 'prefix unbinding is XML 1.1 only');
  t.equal(code(() => parseXml('<a xmlns:xml="urn:other"/>')), 'HVG_ERR_XML_MALFORMED');
  t.equal(code(() => parseXml('<a p:x="1"/>')), 'HVG_ERR_XML_MALFORMED', 'undeclared attribute prefix');
  t.equal(code(() => parseXml('<a xmlns:p="urn:x"></a><p:b/>')), 'HVG_ERR_XML_MALFORMED');
});

t.test('offsets give the exact source of each element', async (t) => {
  const src = '<?xml version="1.0"?>\r\n<r><!-- <h>decoy</h> --><h a="1">x&amp;y</h><i/></r>';
  const root = parseXml(src);
  const [h, i] = root.children;
  t.equal(rawXml(h!), '<h a="1">x&amp;y</h>');
  t.equal(h?.text, 'x&y');
  t.equal(rawXml(i!), '<i/>');
  t.equal(rawXml(root), src.slice(src.indexOf('<r>')));
  const bom = parseXml(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<r>é</r>')]));
  t.equal(rawXml(bom), '<r>é</r>', 'BOM dropped, UTF-8 decoded');
});

t.test('text: entities, character references, CDATA, line ends', async (t) => {
  const r = parseXml('<r a="&lt;&#65;&#x42;&quot;&apos;" b="x\ty\r\nz" c="&#10;">&gt;&#x1F600;<![CDATA[<&>]]>\r\n</r>');
  t.equal(r.attrs.a, '<AB"\'');
  t.equal(r.attrs.b, 'x y z', 'literal whitespace in attributes becomes spaces');
  t.equal(r.attrs.c, '\n', 'character references survive normalisation');
  t.equal(r.text, '>😀<&>\n');
  t.equal(Object.getPrototypeOf(r.attrs), null);
  t.equal(parseXml('<r __proto__="x" constructor="y"/>').attrs.__proto__, 'x', 'no prototype pollution');
});

t.test('forbidden constructs', async (t) => {
  const cases: Record<string, string> = {
    doctype: '<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>',
    doctypeLower: '<!doctype r><r/>',
    entityOnly: '<r/><!ENTITY x "y">',
    billionLaughs: '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><lolz>&lol2;</lolz>',
    externalEntity: '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>',
    undeclaredEntity: '<r>&nbsp;</r>',
    entityInAttribute: '<r a="&xxe;"/>',
    pi: '<r><?php echo 1; ?></r>',
    stylesheet: '<?xml-stylesheet href="x"?><r/>',
    piAfterDecl: '<?xml version="1.0"?><?foo?><r/>',
  };
  for (const [name, xml] of Object.entries(cases)) t.equal(code(() => parseXml(xml)), 'HVG_ERR_XML_FORBIDDEN', name);
});

t.test('malformed documents', async (t) => {
  const cases: Record<string, string | Uint8Array> = {
    empty: '',
    whitespace: '  \n',
    text: 'hello',
    mismatched: '<a></b>',
    unclosed: '<a><b></b>',
    truncatedTag: '<a><b',
    truncatedAttr: '<a b="1',
    twoRoots: '<a/><b/>',
    textAfterRoot: '<a/>x',
    strayEnd: '</a>',
    unquoted: '<a b=1/>',
    noValue: '<a b/>',
    noSpace: '<a b="1"c="2"/>',
    duplicateAttr: '<a b="1" b="2"/>',
    ltInAttr: '<a b="<"/>',
    bareAmp: '<a>&</a>',
    badCharRef: '<a>&#0;</a>',
    badName: '<1a/>',
    badComment: '<a><!-- a -- b --></a>',
    unterminatedComment: '<a><!-- x</a>',
    cdataEnd: '<a>]]></a>',
    declNotFirst: ' <?xml version="1.0"?><a/>',
    badDecl: '<?xml encoding="utf-8"?><a/>',
    utf16Decl: '<?xml version="1.0" encoding="utf-16"?><a/>',
    controlChar: '<a>\u0007</a>',
    loneSurrogate: '<a>\ud800</a>',
    invalidUtf8: Buffer.from([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e]),
    unknownMarkup: '<a><!FOO></a>',
  };
  for (const [name, xml] of Object.entries(cases)) t.equal(code(() => parseXml(xml)), 'HVG_ERR_XML_MALFORMED', name);
});

t.test('limits', async (t) => {
  t.equal(code(() => parseXml('<a>' + 'x'.repeat(100) + '</a>', { maxBytes: 50 })), 'HVG_ERR_XML_FORBIDDEN', 'bytes');
  t.equal(code(() => parseXml(Buffer.alloc(60, 0x20), { maxBytes: 50 })), 'HVG_ERR_XML_FORBIDDEN', 'bytes (buffer)');
  t.equal(code(() => parseXml('<a>' + 'é'.repeat(30) + '</a>', { maxBytes: 50 })), 'HVG_ERR_XML_FORBIDDEN', 'counted in UTF-8 bytes');
  const deep = (n: number) => '<a>'.repeat(n) + '</a>'.repeat(n);
  t.equal(code(() => parseXml(deep(32))), 'accepted');
  t.equal(code(() => parseXml(deep(33))), 'HVG_ERR_XML_FORBIDDEN', 'depth');
  t.equal(code(() => parseXml(deep(100_000), { maxBytes: 10_000_000 })), 'HVG_ERR_XML_FORBIDDEN', 'very deep: no stack overflow');
  t.equal(code(() => parseXml(`<a b="${'x'.repeat(4096)}"/>`)), 'accepted');
  t.equal(code(() => parseXml(`<a b="${'x'.repeat(4097)}"/>`)), 'HVG_ERR_XML_FORBIDDEN', 'attribute length');
  const attrs = Array.from({ length: 33 }, (_, i) => `a${i}="1"`).join(' ');
  t.equal(code(() => parseXml(`<a ${attrs}/>`)), 'HVG_ERR_XML_FORBIDDEN', 'attribute count');
});

t.test('non-string, non-bytes input is refused with HvgError', async (t) => {
  t.equal(code(() => parseXml(42 as unknown as string)), 'HVG_ERR_XML_MALFORMED');
  t.equal(code(() => parseXml(null as unknown as string)), 'HVG_ERR_XML_MALFORMED');
});

// The hot path compares end tags and repeated element names in place (xml-names.ts) instead of
// slicing each name: names that are prefixes of one another must still be told apart.
t.test('names compared in place: prefixes of one another, end tags, repeated names', async (t) => {
  const names = (e: ReturnType<typeof parseXml>): string => `${e.name}(${e.children.map(names).join(',')})`;
  t.equal(names(parseXml('<a><ab><a/><abc/><ab/></ab><a>x</a ><a\n/></a>')), 'a(ab(a(),abc(),ab()),a(),a())');
  t.equal(names(parseXml('<p:a xmlns:p="urn:p"><p/><p:a/><p:ab/></p:a>')), 'p:a(p(),p:a(),p:ab())');
  t.match(code(() => parseXml('<a></ab>')), 'HVG_ERR_XML_MALFORMED');
  t.throws(() => parseXml('<ab></a>'), /expected <\/ab> but found <\/a>/);
  t.throws(() => parseXml('<a></ab>'), /expected <\/a> but found <\/ab>/);
  t.throws(() => parseXml('<a></a/>'), /unterminated end tag <\/a>/);
  t.throws(() => parseXml('<a><b></a></b>'), /expected <\/b> but found <\/a>/);
  // more distinct names than are remembered
  const many = Array.from({ length: 40 }, (_, i) => `<n${i}/><n${i}>t</n${i}>`).join('');
  const root = parseXml(`<r>${many}</r>`);
  t.equal(root.children.length, 80);
  t.same(root.children.slice(-2).map((c) => [c.name, c.text]), [['n39', ''], ['n39', 't']]);
  // children: a leaf's list is empty and cannot be pushed into by mistake; order is kept
  const leaf = root.children[0]!;
  t.equal(leaf.children.length, 0);
  t.ok(Object.isFrozen(leaf.children), "a leaf's children list is the shared frozen empty one");
  t.same(parseXml('<r><x/><y/><z/></r>').children.map((c) => c.name), ['x', 'y', 'z']);
});
