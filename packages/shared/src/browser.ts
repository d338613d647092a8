/**
 * What a browser may run of the shared code: the field rules and the kk/ru messages, with nothing
 * that needs Node. The gateway's public forms bundle it (gateway/src/forms/client.ts), so a page
 * checks each field with the very rules and words the API answers with.
 */
export * from './iin';
export * from './i18n';
export * from './validators';
