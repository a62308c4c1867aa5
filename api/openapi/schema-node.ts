// A resolved view of one OpenAPI schema: `$ref` and single-element `allOf` are already followed, so
// code that walks objects against their schema (unknown-field detection, strategic merge patch,
// server-side apply field sets) never deals with references. Recursive types share node objects.

export interface SchemaNode {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  /** Map values (e.g. labels: string). `true` or absent with no properties means free-form. */
  additionalProperties?: SchemaNode | boolean;
  required?: string[];
  enum?: unknown[];
  /**
   * The documented default (`+default=` markers, e.g. ContainerPort.protocol "TCP"). Server-side
   * apply uses it for list-map keys an item leaves out, as structured-merge-diff does.
   */
  default?: unknown;
  /** Quantity and IntOrString accept either form. */
  oneOf?: SchemaNode[];
  'x-kubernetes-patch-merge-key'?: string;
  /** e.g. "merge", "retainKeys", "merge,retainKeys", "replace". */
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  /** Set on the top-level node of a Kind. */
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}
