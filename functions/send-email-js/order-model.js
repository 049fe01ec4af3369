// The pieces of the Rust `order-model` crate that send-email needs, ported to JavaScript.
//
// Kept byte-for-byte compatible with the Rust originals (money formatting, message ids, the `{:?}`
// quoting, column padding), because send-email's output must be the same whichever language
// produced it.

import { TaskError, config, http } from '../../guest-sdk/js/index.js';

/** Error names the workflow's Retry and Catch rules match (order_model::errors). */
export const INVALID_ORDER = 'InvalidOrder';

const U64_MAX = (1n << 64n) - 1n;

/** The email provider send-email hands the confirmation to (`POST /emails`), from
 * `order_model::providers`: the variable naming its URL and the secret holding its API key. */
export const EMAIL = { urlSetting: 'EMAIL_API_URL', keySecret: 'EMAIL_API_KEY' };

/**
 * POSTs `body` as JSON to `path` under the provider's URL, with the idempotency key the provider
 * uses to drop a retried duplicate, and the API key as bearer token when the function has it.
 * `undefined` when no URL is configured: the function then decides on its own, as a test
 * environment's stand-in would. Transport failures are `Http.*` errors a workflow's Retry matches.
 */
export function postToProvider({ urlSetting, keySecret }, path, idempotencyKey, body) {
  const base = config.get(urlSetting);
  if (base === undefined) return undefined;
  const headers = { 'idempotency-key': idempotencyKey };
  const key = config.get(keySecret);
  if (key !== undefined) headers.authorization = `Bearer ${key}`;
  return http.post(`${base.replace(/\/+$/, '')}${path}`, { headers, json: body });
}

/** The products' display names, from the shop's catalog (order_model::CATALOG). */
const PRODUCT_NAMES = new Map([
  ['MUG-CERAMIC-350', 'Ceramic mug, 350 ml'],
  ['TEE-ORGANIC-M', 'Organic cotton T-shirt, size M'],
  ['STICKER-FERRIS', 'Ferris the crab sticker'],
  ['BOOK-RUST-2E', 'The Rust Programming Language, 2nd edition'],
  ['HEADPHONES-NC', 'Noise-cancelling headphones'],
  ['KEYBOARD-MECH', 'Mechanical keyboard'],
  ['LAPTOP-PRO-14', '14-inch laptop'],
  ['MONITOR-4K-27', '27-inch 4K monitor'],
]);

/** The catalog name of a SKU, or undefined for one the catalog does not know. */
export function productName(sku) {
  return PRODUCT_NAMES.get(sku);
}

/** How a card brand reads in a message (`CardBrand`'s Display). */
export function cardBrandName(brand) {
  return { Amex: 'American Express', Unknown: 'card' }[brand] ?? brand;
}

/** `123456, "USD"` → `1,234.56 USD`. Amounts are u64 minor units, so BigInt keeps them exact. */
export function formatMoney(cents, currency) {
  const value = BigInt(cents);
  const units = (value / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${units}.${(value % 100n).toString().padStart(2, '0')} ${currency}`;
}

/** `a × b` in u64, stopping at the maximum as Rust's `saturating_mul` does. */
export function saturatingMul(a, b) {
  const product = BigInt(a) * BigInt(b);
  return product > U64_MAX ? U64_MAX : product;
}

/** The first word of the name, for a friendly greeting ("Hi Ada"). */
export function firstName(name) {
  return name.trim().split(/\s+/u)[0] || 'there';
}

/** The address as the lines printed on a label or in an email. */
export function addressLines(address) {
  const lines = [address.line1];
  if (address.line2) lines.push(address.line2);
  lines.push(`${address.postalCode} ${address.city}`, address.country);
  return lines;
}

/** Pads to `width` characters (Unicode scalar values, as Rust's `{:<width}` counts them). */
export function padEnd(text, width) {
  return text + ' '.repeat(Math.max(0, width - [...text].length));
}

/** Pads on the left to `width` characters, as Rust's `{:>width}` does. */
export function padStart(text, width) {
  return ' '.repeat(Math.max(0, width - [...text].length)) + text;
}

/** `text` quoted as Rust's `{:?}` prints a string. */
export function rustDebug(text) {
  const escapes = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\0': '\\0' };
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0);
    if (char in escapes) out += escapes[char];
    else if (isControl(char)) out += `\\u{${code.toString(16)}}`;
    else out += char;
  }
  return `"${out}"`;
}

const utf8Length = (text) => new TextEncoder().encode(text).length;
const isWhitespace = (char) => /\s/u.test(char);
// Rust's `char::is_control`: the Cc category, spelled out because the engine inside the component
// is built without Unicode property escapes.
const isControl = (char) => {
  const code = char.codePointAt(0);
  return code < 0x20 || (code >= 0x7f && code < 0xa0);
};

/**
 * A plausible email address (`order_model::is_valid_email`): one `@`, a non-empty local part
 * without spaces, and a domain of dot-separated letter/digit/hyphen labels ending in a TLD of two
 * or more letters. Lengths are in UTF-8 bytes, as in Rust.
 */
export function isValidEmail(email) {
  const at = email.indexOf('@');
  if (at < 0) return false;
  const local = email.slice(0, at);
  const labels = email.slice(at + 1).split('.');
  const tld = labels[labels.length - 1];
  return (
    utf8Length(email) <= 254 &&
    local.length > 0 &&
    utf8Length(local) <= 64 &&
    ![...local].some((c) => isWhitespace(c) || c === '@' || isControl(c)) &&
    labels.length >= 2 &&
    labels.every(
      (label) => label.length > 0 && !label.startsWith('-') && !label.endsWith('-') && /^[A-Za-z0-9-]+$/.test(label),
    ) &&
    tld.length >= 2 &&
    /^[A-Za-z]+$/.test(tld)
  );
}

const MASK = U64_MAX;
const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;

/** SplitMix64's finaliser: every input bit affects every output bit. */
function mix(value) {
  let z = value;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
  return z ^ (z >> 31n);
}

/**
 * A 64-bit fingerprint of a sequence of fields (`order_model::Fingerprint`): FNV-1a, finished
 * with SplitMix64's mixer. Ids derived from it are the same on every retry, so a downstream
 * service can recognise a duplicate.
 */
export class Fingerprint {
  constructor(kind) {
    this.state = FNV_OFFSET;
    this.text(kind);
  }

  text(field) {
    for (const byte of new TextEncoder().encode(field)) {
      this.state = ((this.state ^ BigInt(byte)) * FNV_PRIME) & MASK;
    }
    // 0xFF never occurs in UTF-8, so it separates fields unambiguously.
    this.state = ((this.state ^ 0xffn) * FNV_PRIME) & MASK;
    return this;
  }

  finish() {
    return mix(this.state);
  }

  /** A UUID-shaped id, version 8 (custom) with the RFC variant. */
  uuid() {
    const rotated = ((this.state << 32n) | (this.state >> 32n)) & MASK;
    let high = this.finish();
    let low = mix(high ^ rotated);
    high = (high & (MASK ^ 0xf000n)) | 0x8000n;
    low = (low & (MASK ^ (3n << 62n))) | (2n << 62n);
    const hex = (value, digits) => value.toString(16).padStart(digits, '0');
    return [
      hex(high >> 32n, 8),
      hex((high >> 16n) & 0xffffn, 4),
      hex(high & 0xffffn, 4),
      hex(low >> 48n, 4),
      hex(low & 0xffffffffffffn, 12),
    ].join('-');
  }
}

// The shape of the order document (`order_model::OrderDocument`), checked the way serde checks it
// when the Rust function deserialises its input: every field present with its type, unknown keys
// ignored, and a piece of the document, when present, complete. Leaves are 'string', 'bool',
// 'u32', 'u64' or a list of allowed strings; a trailing '?' marks a Rust `Option`, which may be
// absent or null. `currency` has a serde default instead: see `withDefaults`.
const ADDRESS = { line1: 'string', line2: 'string?', city: 'string', postalCode: 'string', country: 'string' };
const optional = (shape) => ({ optional: shape });
export const ORDER_DOCUMENT = {
  orderId: 'string',
  customer: { id: 'string', name: 'string', email: 'string', phone: 'string' },
  items: [{ sku: 'string', quantity: 'u32', unitPriceCents: 'u64' }],
  payment: { cardNumber: 'string', expiry: 'string', cvv: 'string', cardholder: 'string', billingCountry: 'string?' },
  shippingAddress: ADDRESS,
  currency: 'string',
  submittedAt: 'string?',
  placedAt: 'string',
  totalCents: 'u64',
  itemCount: 'u64',
  checks: optional({
    authorization: {
      authorizationId: 'string',
      amountCents: 'u64',
      currency: 'string',
      cardBrand: ['Visa', 'Mastercard', 'Amex', 'Discover', 'Unknown'],
      last4: 'string',
    },
    fraud: { score: 'u32', threshold: 'u32', triggeredRules: [{ rule: 'string', points: 'u32', detail: 'string' }] },
  }),
  approval: optional({ approved: 'bool', approvedBy: 'string?', note: 'string?' }),
  inventory: optional({
    reservationId: 'string',
    warehouse: 'string',
    lines: [{ sku: 'string', quantity: 'u64', bin: 'string', stockAfter: 'u64' }],
  }),
  fulfilment: optional({
    shippingLabel: {
      carrier: ['USPS', 'UPS', 'DHL'],
      service: 'string',
      trackingNumber: 'string',
      trackingUrl: 'string',
      weightGrams: 'u64',
      estimatedDeliveryDays: 'u32',
      shipTo: ADDRESS,
      labelText: 'string',
    },
    notifications: {
      email: { messageId: 'string', from: 'string', to: 'string', subject: 'string', textBody: 'string' },
      sms: { messageId: 'string', to: 'string', body: 'string', length: 'u64' },
    },
  }),
  shipment: optional({
    shipmentId: 'string',
    carrier: ['USPS', 'UPS', 'DHL'],
    trackingNumber: 'string',
    trackingUrl: 'string',
    authorizationId: 'string',
    capturedCents: 'u64',
    reservationId: 'string',
    estimatedDeliveryDays: 'u32',
  }),
  refund: optional({
    status: ['REFUNDED', 'NOTHING_TO_REFUND'],
    refundId: 'string?',
    authorizationId: 'string?',
    amountCents: 'u64',
    currency: 'string',
  }),
  error: optional({ Error: 'string', Cause: 'string?' }),
};

const INTEGER_MAX = { u32: 2 ** 32 - 1, u64: 2 ** 64 - 1 };

/** Fills in what serde's defaults fill in: `currency` is `USD` when the document has none. */
export function withDefaults(doc) {
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc) && !('currency' in doc)) {
    return { ...doc, currency: 'USD' };
  }
  return doc;
}

/** Throws `InvalidInput` naming the first field of `value` that does not fit `shape`. */
export function checkShape(value, shape = ORDER_DOCUMENT, path = '$') {
  const invalid = (expected) =>
    new TaskError('InvalidInput', `${path}: expected ${expected}, found ${jsonType(value)}`);
  if (typeof shape === 'object' && shape !== null && 'optional' in shape) {
    if (value !== undefined && value !== null) checkShape(value, shape.optional, path);
    return;
  }
  if (typeof shape === 'string') {
    if (shape.endsWith('?') && (value === undefined || value === null)) return;
    const leaf = shape.replace(/\?$/, '');
    if (leaf === 'string' && typeof value !== 'string') throw invalid('a string');
    if (leaf === 'bool' && typeof value !== 'boolean') throw invalid('a boolean');
    if (leaf in INTEGER_MAX && !(Number.isInteger(value) && value >= 0 && value <= INTEGER_MAX[leaf])) {
      throw invalid(`an integer from 0 to ${BigInt(INTEGER_MAX[leaf])}`);
    }
    return;
  }
  if (Array.isArray(shape) && typeof shape[0] === 'string') {
    if (!shape.includes(value)) throw invalid(`one of ${shape.join(', ')}`);
    return;
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) throw invalid('an array');
    value.forEach((element, index) => checkShape(element, shape[0], `${path}[${index}]`));
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('an object');
  for (const [key, fieldShape] of Object.entries(shape)) {
    const mayBeAbsent =
      (typeof fieldShape === 'string' && fieldShape.endsWith('?')) || fieldShape?.optional !== undefined;
    if (!(key in value) && !mayBeAbsent) throw new TaskError('InvalidInput', `${path}: missing field \`${key}\``);
    checkShape(value[key], fieldShape, `${path}.${key}`);
  }
}

/** How a JSON value is described in an `InvalidInput` cause. */
function jsonType(value) {
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'string') return 'a string';
  return Array.isArray(value) ? 'an array' : 'an object';
}
