// Write stepwasm task functions in JavaScript.
//
// A stepwasm workflow is written in Amazon States Language; each of its `Task` states runs a task
// function: a WebAssembly component that takes the state's JSON input and returns JSON, or fails
// with a named error. This module turns a JavaScript function into such a component, built with
// ComponentizeJS for the `stepwasm:task` world:
//
//     import * as stepwasm from 'stepwasm';
//
//     export function price(order, ctx) {
//       if (!order.items?.length) {
//         throw new stepwasm.TaskError('InvalidOrder', stepwasm.details({ field: 'items', problem: 'empty' }));
//       }
//       stepwasm.log.info('pricing', order.orderId, 'on attempt', ctx.attempt);
//       return { totalCents: order.items.reduce((sum, i) => sum + i.quantity * i.unitPriceCents, 0) };
//     }
//
//     export const handle = stepwasm.handler(price);
//
// What the SDK does around the handler:
//
// | what happened                                  | the workflow sees                           |
// |------------------------------------------------|---------------------------------------------|
// | the handler returned (or resolved to) a value  | the value, as the state's result            |
// | it threw `new TaskError(e, c)`                 | error `e`, cause `c`                        |
// | the input is not JSON                          | `InvalidInput`                              |
// | the result cannot be written as JSON           | `InvalidOutput`                             |
// | an `HttpError` escaped                         | its `Http.*` name (see http.js)             |
// | anything else was thrown                       | `Runtime.Panic`, cause = message and stack  |
//
// Module-level code runs once, when the component is built: ComponentizeJS snapshots the
// initialised engine, and every call starts from that snapshot in a fresh instance, so nothing a
// call changes reaches the next one. Read configuration and make requests inside the handler.

export { Context, TaskError, details, handler } from './task.js';
export { HttpError } from './http.js';
export * as config from './config.js';
export * as http from './http.js';
export * as log from './log.js';
