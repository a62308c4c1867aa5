// meta.k8s.io/v1 Table replies (kubectl's human-readable output): the strategy's printer makes
// the cells; each row carries the object as PartialObjectMetadata (so `-A`, `--show-labels`,
// `-L` work) or whole with `?includeObject=Object` (`--sort-by`).

import type { KubeObject, ListMeta } from '../api/object.ts';
import type { ResourceStrategy, TableColumnDefinition } from '../api/resource.ts';
import { badRequest } from '../api/errors.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: ListMeta;
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export function parseIncludeObject(value: string | undefined): IncludeObject {
  if (value === undefined || value === '' || value === 'Metadata') return 'Metadata';
  if (value === 'None' || value === 'Object') return value;
  throw badRequest(`includeObject: Unsupported value: "${value}": supported values: "Metadata", "None", "Object"`);
}

export function partialObjectMetadata(object: KubeObject): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

export type TableRow = { cells: unknown[]; object?: unknown };

/** One row: the printer's cells, plus the object as asked for by includeObject. */
export function tableRow(strategy: ResourceStrategy, object: KubeObject, include: IncludeObject, now: Date): TableRow {
  const row: TableRow = { cells: strategy.table.cells(object, now) };
  if (include === 'Metadata') row.object = partialObjectMetadata(object);
  else if (include === 'Object') row.object = object;
  return row;
}

export function toTable(
  strategy: ResourceStrategy, objects: KubeObject[], listMeta: ListMeta, include: IncludeObject, now: Date, withColumns = true,
): Table {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: withColumns ? strategy.table.columns : [],
    rows: (strategy.table.order ? strategy.table.order(objects) : objects).map((object) => tableRow(strategy, object, include, now)),
  };
}
