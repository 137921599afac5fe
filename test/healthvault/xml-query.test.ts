import t from 'tap';
import { parseXml } from '../../src/healthvault/safe-xml.ts';
import {
  childrenNamed, elementOf, elementPath, expectRoot, guidText, integerText, isXmlElement, optionalChild, optionalText, requiredChild, requiredText, textOf,
} from '../../src/healthvault/xml-query.ts';

const doc = parseXml('<p:root xmlns:p="urn:a"><list><item> 1 </item><item>2</item><item><id>4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218</id></item></list><n>42</n><e/></p:root>');

t.test('root by (namespace, local name)', async (t) => {
  t.equal(expectRoot(doc, 'urn:a', 'root'), doc);
  t.equal(expectRoot(doc, ['', 'urn:a'], 'root'), doc);
  t.throws(() => expectRoot(doc, 'urn:b', 'root'), { code: 'HVG_ERR_XML_UNEXPECTED', message: 'expected root element {urn:b}root, found {urn:a}root' });
  t.throws(() => expectRoot(doc, 'urn:a', 'other'), { code: 'HVG_ERR_XML_UNEXPECTED' });
});

t.test('children by local name, cardinality, text', async (t) => {
  const list = requiredChild(doc, 'list');
  t.equal(childrenNamed(list, 'item').length, 3);
  t.equal(textOf(childrenNamed(list, 'item')[0]!), '1');
  t.throws(() => optionalChild(list, 'item'), { code: 'HVG_ERR_XML_UNEXPECTED', message: 'p:root/list: <item> appears more than once', details: { path: 'p:root/list' } });
  t.equal(optionalChild(doc, 'missing'), undefined);
  t.equal(optionalText(doc, 'missing'), undefined);
  t.equal(optionalText(doc, 'e'), '');
  t.throws(() => requiredChild(doc, 'missing'), { message: 'p:root: missing <missing>' });
  t.throws(() => requiredText(doc, 'e'), { message: 'p:root/e: is empty' });
  t.equal(integerText(doc, 'n'), 42);
  t.throws(() => integerText(requiredChild(doc, 'list'), 'item'), { code: 'HVG_ERR_XML_UNEXPECTED' });
  const third = childrenNamed(list, 'item')[2]!;
  t.equal(guidText(third, 'id'), '4f2d9b1e-8c3a-4e57-a1d6-93b7c0e5f218');
  t.equal(elementPath(requiredChild(third, 'id')), 'p:root/list/item[3]/id');
  t.throws(() => guidText(doc, 'n'), { message: /p:root\/n: expected a GUID, got "42"/ });
});

t.test('elementOf', async (t) => {
  t.equal(elementOf(doc), doc);
  t.ok(isXmlElement(doc));
  t.notOk(isXmlElement(Buffer.from('<a/>')));
  t.notOk(isXmlElement('<a/>'));
  t.equal(elementOf(Buffer.from('<a/>')).name, 'a');
});
