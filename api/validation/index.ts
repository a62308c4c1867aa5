// Kind-independent validation: names, labels, annotations, ObjectMeta.
export * from './names.ts';
export * from './object-meta.ts';
