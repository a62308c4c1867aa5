// Typed request options decoded from query strings in one place: handlers, subresources and the
// kubelet's endpoint use these, never the raw parameters.
export * from './query-values.ts';
export * from './meta-options.ts';
export * from './pod-options.ts';
