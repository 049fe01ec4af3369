// `send-email`, in JavaScript: renders the order confirmation email.
//
// A port of functions/send-email (Rust) with the same contract, so either can run the workflow's
// SendEmail state. It builds the real message (subject, plain-text body with the lines, total,
// payment and delivery address) with a message id derived from the order and the recipient, so a
// retried step produces the same id. With `EMAIL_API_URL` set (and its origin granted), it hands
// the message to that email provider (`POST /emails`, the `EMAIL_API_KEY` secret as bearer token,
// the message id as idempotency key); without it, rendering is the whole step.
//
// Contract:
// - Input: the order document; uses `$.checks.authorization` if present. A malformed document
//   fails with `InvalidInput`.
// - Output: `{messageId, from, to, subject, textBody}`, filed at
//   `$.fulfilment.notifications.email`.
// - Errors: `InvalidOrder` when `customer.email` is not an email address (SES would reject it),
//   cause `{"orderId", "problems": [{"field", "problem"}]}`; with a provider, the `Http.*` names
//   of the SDK's client (`Http.StatusCode.NNN` when the provider refuses the message).

import * as stepwasm from '../../guest-sdk/js/index.js';
import {
  EMAIL,
  Fingerprint,
  INVALID_ORDER,
  addressLines,
  cardBrandName,
  checkShape,
  firstName,
  formatMoney,
  isValidEmail,
  padEnd,
  padStart,
  productName,
  rustDebug,
  postToProvider,
  saturatingMul,
  withDefaults,
} from './order-model.js';

/** The sender address. */
export const FROM = 'stepwasm sample shop <orders@shop.example>';

/** The task function: render, and hand the message to the email provider when one is configured. */
export function sendEmail(input, ctx) {
  const doc = withDefaults(input);
  checkShape(doc);
  const email = render(doc);
  // The message id is the idempotency key: a retried step cannot mail the customer twice.
  const response = postToProvider(EMAIL, '/emails', email.messageId, email);
  if (response !== undefined) {
    response.errorForStatus();
    stepwasm.log.info(`email ${email.messageId} to ${email.to} accepted by the provider: ${email.subject}`);
  } else {
    stepwasm.log.info(`email ${email.messageId} to ${email.to}: ${email.subject}`);
  }
  return email;
}

/** Renders the confirmation for an order document. */
export function render(doc) {
  const to = doc.customer.email;
  if (!isValidEmail(to)) {
    const problems = [{ field: 'customer.email', problem: `${rustDebug(to)} is not an email address` }];
    throw new stepwasm.TaskError(INVALID_ORDER, stepwasm.details({ orderId: doc.orderId, problems }));
  }

  const money = (cents) => formatMoney(cents, doc.currency);
  let body =
    `Hi ${firstName(doc.customer.name)},\n\n` +
    `Thank you for your order ${doc.orderId}. Here is what we are getting ready for you:\n\n`;
  for (const item of doc.items) {
    // The catalog's name reads better than a SKU; an unknown SKU still shows up as itself.
    const name = productName(item.sku) ?? item.sku;
    const lineTotal = saturatingMul(item.unitPriceCents, item.quantity);
    body += `  ${padStart(String(item.quantity), 3)} x ${padEnd(name, 44)} ${padStart(money(lineTotal), 16)}\n`;
  }
  body += `\n  ${padEnd('Total', 50)} ${padStart(money(doc.totalCents), 16)}\n\n`;

  // The card is authorized now and charged when the parcel ships: say exactly that.
  const auth = doc.checks?.authorization;
  if (auth) {
    body +=
      `We have reserved ${money(auth.amountCents)} on your ${cardBrandName(auth.cardBrand)} ending in ` +
      `${auth.last4}; you will be charged when your parcel ships.\n\n`;
  }
  body += 'It will be delivered to:\n\n';
  body += `  ${doc.customer.name}\n`;
  for (const line of addressLines(doc.shippingAddress)) {
    body += `  ${line}\n`;
  }
  body +=
    '\nWe will email you the tracking number as soon as it leaves our warehouse.\n\n' +
    `Order placed ${doc.placedAt}.\n-- \nstepwasm sample shop\n`;

  return {
    messageId: new Fingerprint('email').text(doc.orderId).text(to).uuid(),
    from: FROM,
    to,
    subject: `Your order ${doc.orderId} is confirmed`,
    textBody: body,
  };
}

export const handle = stepwasm.handler(sendEmail);
