// kube-apiserver's --token-auth-file (k8s.io/apiserver/pkg/authentication/token/tokenfile): a CSV file,
// one credential per record, `token,user,uid[,"group1,group2"]`. Records with fewer than three columns
// are an error; an empty token is skipped; a repeated token keeps its last record.

import { readFile } from 'node:fs/promises';
import type { StaticTokenEntry } from './token-authenticator.ts';

export async function loadTokenFile(path: string): Promise<StaticTokenEntry[]> {
  return parseTokenFile(await readFile(path, 'utf8'), path);
}

export function parseTokenFile(text: string, path: string): StaticTokenEntry[] {
  const entries: StaticTokenEntry[] = [];
  for (const record of parseCsv(text)) {
    if (record.length < 3) {
      throw new Error(`token file '${path}' must have at least 3 columns (token, user name, user uid), found ${record.length}`);
    }
    const [token, username, uid, groups] = record;
    if (token === '') continue;
    entries.push({
      token,
      user: { username, ...(uid ? { uid } : {}), groups: groups === undefined ? [] : groups.split(',') },
    });
  }
  return entries;
}

/** RFC 4180 records as Go's encoding/csv reads them: quoted fields may hold commas, quotes ("") and newlines; blank lines are skipped. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let fieldText = '';
  let line = 1;
  let i = 0;
  const input = text.replace(/\r\n/g, '\n');
  const endRecord = () => {
    record.push(fieldText);
    fieldText = '';
    if (!(record.length === 1 && record[0] === '')) records.push(record);
    record = [];
  };
  while (i < input.length) {
    const c = input[i];
    if (c === '"' && fieldText === '') {
      i++;
      for (;;) {
        if (i >= input.length) throw new Error(`parse error on line ${line}: extraneous or missing " in quoted-field`);
        if (input[i] === '"') {
          if (input[i + 1] === '"') { fieldText += '"'; i += 2; continue; }
          i++;
          break;
        }
        if (input[i] === '\n') line++;
        fieldText += input[i++];
      }
      if (i < input.length && input[i] !== ',' && input[i] !== '\n') {
        throw new Error(`parse error on line ${line}: extraneous or missing " in quoted-field`);
      }
      continue;
    }
    if (c === '"') throw new Error(`parse error on line ${line}: bare " in non-quoted-field`);
    if (c === ',') { record.push(fieldText); fieldText = ''; i++; continue; }
    if (c === '\n') { endRecord(); line++; i++; continue; }
    fieldText += c;
    i++;
  }
  if (fieldText !== '' || record.length > 0) endRecord();
  return records;
}
