import t from 'tap';
import { decodeInput, screenText } from '../../src/healthvault/xml-input.ts';

t.test('decodeInput', async (t) => {
  t.equal(decodeInput(Buffer.from('\ufeff<a/>'), 100), '<a/>', 'BOM dropped (bytes)');
  t.equal(decodeInput('\ufeff<a/>', 100), '<a/>', 'BOM dropped (text)');
  t.throws(() => decodeInput(Buffer.from([0xff, 0xfe, 0x3c]), 100), { code: 'HVG_ERR_XML_MALFORMED', message: /UTF-8/ });
  t.throws(() => decodeInput('<a/>', 3), { code: 'HVG_ERR_XML_FORBIDDEN', details: { limit: 'maxBytes' } });
  t.throws(() => decodeInput('<a>\u000c</a>', 100), { code: 'HVG_ERR_XML_MALFORMED' });
});

t.test('screenText', async (t) => {
  t.equal(screenText('<a/>'), 0);
  t.equal(screenText('<?xml version="1.0" encoding="utf-8"?><a/>'), 38);
  t.equal(screenText("<?xml version='1.0' standalone='yes' ?>\n<a/>"), 39);
  t.throws(() => screenText('<!DOCTYPE a><a/>'), { code: 'HVG_ERR_XML_FORBIDDEN', details: { construct: 'DOCTYPE' } });
  t.throws(() => screenText('<a><!-- <!ENTITY x "y"> --></a>'), { code: 'HVG_ERR_XML_FORBIDDEN' }, 'even inside a comment: raw-text rule');
  t.throws(() => screenText('<a><?target data?></a>'), { code: 'HVG_ERR_XML_FORBIDDEN', details: { construct: 'PI' } });
  t.throws(() => screenText('<a/><?xml version="1.0"?>'), { code: 'HVG_ERR_XML_MALFORMED' });
  t.throws(() => screenText('<?xml version="1.0" encoding="ISO-8859-1"?><a/>'), { code: 'HVG_ERR_XML_MALFORMED', message: /encoding/ });
});
