import t from 'tap';
import { decodeEntities, normalizeAttribute, normalizeText } from '../../src/healthvault/xml-entities.ts';

t.test('only the five predefined entities and character references', async (t) => {
  t.equal(decodeEntities('no refs'), 'no refs');
  t.equal(decodeEntities('&lt;&gt;&amp;&quot;&apos;'), '<>&"\'');
  t.equal(decodeEntities('&#65;&#x42;&#x1F600;'), 'AB😀');
  t.equal(decodeEntities('&amp;lt;'), '&lt;', 'decoded once, never recursively');
  t.throws(() => decodeEntities('&nbsp;'), { code: 'HVG_ERR_XML_FORBIDDEN' });
  t.throws(() => decodeEntities('&constructor;'), { code: 'HVG_ERR_XML_FORBIDDEN' }, 'no prototype lookups');
  t.throws(() => decodeEntities('&__proto__;'), { code: 'HVG_ERR_XML_FORBIDDEN' });
  for (const bad of ['&', '&amp', '& ', '&#;', '&#x;', '&#0;', '&#xD800;', '&#x110000;', '&#xFFFE;', '&#12345678;']) {
    t.throws(() => decodeEntities(bad), { code: 'HVG_ERR_XML_MALFORMED' }, bad);
  }
});

t.test('line ends and attribute whitespace', async (t) => {
  t.equal(normalizeText('a\r\nb\rc\n'), 'a\nb\nc\n');
  t.equal(normalizeAttribute('a\r\nb\tc\nd'), 'a b c d');
  t.equal(normalizeAttribute('plain'), 'plain');
});
