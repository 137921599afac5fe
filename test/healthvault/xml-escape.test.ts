import t from 'tap';
import { escapeAttr, escapeText, textElement } from '../../src/healthvault/xml-escape.ts';
import { parseXml } from '../../src/healthvault/safe-xml.ts';

t.test('escaping round-trips through the parser', async (t) => {
  t.equal(escapeText('plain'), 'plain');
  t.equal(escapeText('a<b>&c]]>'), 'a&lt;b&gt;&amp;c]]&gt;');
  t.equal(escapeAttr('"a"\t\n\r<&>'), '&quot;a&quot;&#9;&#10;&#13;&lt;&amp;&gt;');
  t.equal(textElement('m', 'x & y'), '<m>x &amp; y</m>');
  const tricky = ' "q" \'s\' <tag> & ]]> \t\n end';
  const el = parseXml(`<r a="${escapeAttr(tricky)}">${escapeText(tricky)}</r>`);
  t.equal(el.attrs.a, tricky);
  t.equal(el.text, tricky);
});
