// A small, strict XML reader for vendor event bodies (Hikvision ISAPI EventNotificationAlert): elements, text
// and attributes into a tree, nothing else. No DTD is read — a body with <!DOCTYPE or <!ENTITY is refused
// outright (no entity expansion, no external entities: XXE and "billion laughs" have nothing to work with);
// only the five predefined entities and numeric character references are decoded. Nesting and element count are
// bounded, so a hostile body costs a linear scan at most.
export interface XmlElement {
  /** Local name: a namespace prefix (`ns:eventType`) is dropped. */
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text directly inside, trimmed (CDATA included). */
  text: string;
}

export const XML_LIMITS = { depth: 32, elements: 5000 } as const;

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (m, e: string) => {
    if (e[0] === '#') {
      const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      if (!Number.isFinite(code) || code > 0x10ffff) throw new Error(`bad character reference ${m}`);
      return String.fromCodePoint(code);
    }
    const v = ENTITIES[e];
    if (v === undefined) throw new Error(`unknown entity ${m}`);
    return v;
  });
}

const localName = (n: string) => n.slice(n.indexOf(':') + 1);

/** Parse one XML document; throws (a decoder's defineDecoder turns it into decode_failed) when it is not well-formed. */
export function parseXml(text: string): XmlElement {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new Error('XML with a DOCTYPE or ENTITY declaration is refused');
  let i = 0;
  let count = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const n = text.length;
  while (i < n) {
    const lt = text.indexOf('<', i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (stack.length) stack[stack.length - 1].text += decodeText(chunk);
    else if (chunk.trim()) throw new Error('text outside the root element');
    if (lt < 0) break;
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt);
      if (end < 0) throw new Error('unterminated processing instruction');
      i = end + 2;
    } else if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt);
      if (end < 0) throw new Error('unterminated comment');
      i = end + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt);
      if (end < 0 || !stack.length) throw new Error('bad CDATA section');
      stack[stack.length - 1].text += text.slice(lt + 9, end);
      i = end + 3;
    } else if (text[lt + 1] === '/') {
      const end = text.indexOf('>', lt);
      if (end < 0) throw new Error('unterminated end tag');
      const name = localName(text.slice(lt + 2, end).trim());
      const open = stack.pop();
      if (!open || open.name !== name) throw new Error(`end tag </${name}> does not close <${open?.name ?? '(nothing)'}>`);
      open.text = open.text.trim();
      if (!stack.length) root = open;
      i = end + 1;
    } else {
      const end = text.indexOf('>', lt);
      if (end < 0) throw new Error('unterminated start tag');
      const selfClosing = text[end - 1] === '/';
      const inner = text.slice(lt + 1, selfClosing ? end - 1 : end);
      const m = /^([A-Za-z_][\w.:-]*)([\s\S]*)$/.exec(inner);
      if (!m) throw new Error(`bad start tag <${inner.slice(0, 20)}>`);
      if (root) throw new Error('more than one root element');
      if (++count > XML_LIMITS.elements) throw new Error(`more than ${XML_LIMITS.elements} elements`);
      const attrs: Record<string, string> = {};
      for (const a of m[2].matchAll(/([\w.:-]+)\s*=\s*("([^"]*)"|'([^']*)')/g)) attrs[localName(a[1])] = decodeText(a[3] ?? a[4] ?? '');
      const el: XmlElement = { name: localName(m[1]), attrs, children: [], text: '' };
      if (stack.length) stack[stack.length - 1].children.push(el);
      if (selfClosing) {
        if (!stack.length) root = el;
      } else {
        stack.push(el);
        if (stack.length > XML_LIMITS.depth) throw new Error(`XML nested deeper than ${XML_LIMITS.depth} levels`);
      }
      i = end + 1;
    }
  }
  if (stack.length) throw new Error(`unclosed element <${stack[stack.length - 1].name}>`);
  if (!root) throw new Error('no XML element');
  return root;
}

/** The first child element of this name (case-sensitive, local name). */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

/** Every descendant element of this name, depth first. */
export function descendants(el: XmlElement, name: string, out: XmlElement[] = []): XmlElement[] {
  for (const c of el.children) {
    if (c.name === name) out.push(c);
    descendants(c, name, out);
  }
  return out;
}
