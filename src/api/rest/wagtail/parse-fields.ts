/**
 * Wagtail API v2's `fields` parameter grammar, ported from wagtail/api/v2/utils.py
 * (parse_fields_parameter) with its error messages and 0-based positions, so clients
 * that handle Wagtail's errors handle ours.
 */
export interface FieldItem {
  name: string;
  negated: boolean;
  /** `x(a,b)`: the nested selection; null when none was given. */
  sub: FieldItem[] | null;
}

export class FieldsParseError extends Error {
  override name = 'FieldsParseError';
}

const ALNUM = /^[\p{L}\p{N}]$/u;
const SPACE = /^\s$/u;

export function parseFieldsParameter(input: string): FieldItem[] {
  const chars = Array.from(input);
  let pos = 0;
  const fail = (msg: string): never => { throw new FieldsParseError(msg); };
  const unexpected = (c: string) => fail(`unexpected char '${c}' at position ${pos}`);

  function identifier(): { ident: string; negated: boolean } {
    let first = true;
    let negated = false;
    let ident = '';
    while (pos < chars.length) {
      const c = chars[pos]!;
      if (c === '(' || c === ')' || c === ',') {
        if (!ident) unexpected(c);
        if ((ident === '*' || ident === '_') && c === '(') unexpected(c);
        return { ident, negated };
      } else if (c === '-') {
        if (!first) unexpected(c);
        negated = true;
      } else if (c === '*' || c === '_') {
        if (ident && c === '*') unexpected(c);
        ident += c;
      } else if (ALNUM.test(c)) {
        if (ident === '*') unexpected(c);
        ident += c;
      } else if (SPACE.test(c)) {
        fail(`unexpected whitespace at position ${pos}`);
      } else {
        unexpected(c);
      }
      first = false;
      pos++;
    }
    return { ident, negated };
  }

  function fields(expectClose: boolean): FieldItem[] {
    let firstIdent: string | null = null;
    let isFirst = true;
    const out: FieldItem[] = [];
    while (pos < chars.length) {
      let sub: FieldItem[] | null = null;
      const { ident, negated } = identifier();
      if (ident === '*' || ident === '_') {
        if (!isFirst) fail(`'${ident}' must be in the first position`);
        if (negated) fail(`'${ident}' cannot be negated`);
      }
      if (chars[pos] === '(') {
        if (negated) unexpected('(');
        pos++;
        sub = fields(true);
      }
      if (isFirst) {
        firstIdent = ident;
      } else {
        if (firstIdent === '_' && negated) fail("negated fields with '_' doesn't make sense");
        if (firstIdent === '*' && !negated && !sub?.length) fail("additional fields with '*' doesn't make sense");
      }
      out.push({ name: ident, negated, sub });
      if (chars[pos] === ')') {
        if (!expectClose) unexpected(')');
        pos++;
        return out;
      }
      if (chars[pos] === ',') {
        pos++;
        if (pos >= chars.length || chars[pos] === ',') unexpected(',');
      }
      isFirst = false;
    }
    if (expectClose) fail('unexpected end of input (did you miss out a close bracket?)');
    return out;
  }

  return fields(false);
}
