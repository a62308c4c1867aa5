// Regenerates the vendored .proto files under ./proto from the FileDescriptorProtos that Kubernetes'
// gogo-generated Go code embeds (gzipped) in every client binary, so the schema matches the kubectl
// release exactly. Usage (run from the repo root):
//   node --import tsx server/protobuf/extract-descriptors.ts <kubectl binary> [version label]
// Comments are not part of descriptors; the upstream files carry the documentation.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import type { IFileDescriptorProto, IDescriptorProto, IFieldDescriptorProto } from 'protobufjs/ext/descriptor/index.js';
import { PROTO_FILES } from './kinds.ts';

/**
 * The upstream files the decoder needs: the ones holding the served kinds (kinds.ts's PROTO_FILES, so adding a
 * kind is one list) and the apimachinery files they import.
 */
export const VENDORED_PROTO_FILES = [...new Set([
  'k8s.io/apimachinery/pkg/runtime/generated.proto',
  'k8s.io/apimachinery/pkg/runtime/schema/generated.proto',
  'k8s.io/apimachinery/pkg/api/resource/generated.proto',
  'k8s.io/apimachinery/pkg/util/intstr/generated.proto',
  ...PROTO_FILES,
])];

const LICENSE_HEADER = `/*
Copyright The Kubernetes Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/
`;

const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff]);

/** All gzipped FileDescriptorProtos found in a binary, by file name. */
export function findEmbeddedDescriptors(binary: Buffer): Map<string, IFileDescriptorProto> {
  const found = new Map<string, IFileDescriptorProto>();
  for (let at = binary.indexOf(GZIP_HEADER); at >= 0; at = binary.indexOf(GZIP_HEADER, at + 1)) {
    let raw: Buffer;
    try {
      // The member's deflate stream alone: gunzip would run on into a descriptor stored right after this
      // one (certificates/v1 is followed by v1beta1) and protobuf would merge the two into one message.
      raw = zlib.inflateRawSync(binary.subarray(at + GZIP_HEADER.length), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    } catch {
      continue;
    }
    try {
      const file = descriptor.FileDescriptorProto.toObject(descriptor.FileDescriptorProto.decode(raw)) as IFileDescriptorProto;
      if (file.name && file.name.endsWith('.proto')) found.set(file.name, file);
    } catch {
      // Not a descriptor: some other gzipped blob in the binary.
    }
  }
  return found;
}

const SCALAR_TYPES: Record<number, string> = {
  1: 'double', 2: 'float', 3: 'int64', 4: 'uint64', 5: 'int32', 6: 'fixed64', 7: 'fixed32', 8: 'bool',
  9: 'string', 12: 'bytes', 13: 'uint32', 15: 'sfixed32', 16: 'sfixed64', 17: 'sint32', 18: 'sint64',
};
const TYPE_MESSAGE = 11;
const LABEL_REPEATED = 3;

function fieldType(field: IFieldDescriptorProto): string {
  if (field.type === TYPE_MESSAGE) return field.typeName ?? '';
  const scalar = SCALAR_TYPES[field.type ?? 0];
  if (!scalar) throw new Error(`unsupported field type ${field.type} for ${field.name}`);
  return scalar;
}

function renderMessage(message: IDescriptorProto): string {
  const mapEntries = new Map((message.nestedType ?? [])
    .filter((nested) => nested.options?.mapEntry)
    .map((nested) => [nested.name ?? '', nested]));
  const otherNested = (message.nestedType ?? []).filter((nested) => !nested.options?.mapEntry);
  if (otherNested.length || (message.enumType ?? []).length || (message.oneofDecl ?? []).length) {
    throw new Error(`message ${message.name} uses constructs this renderer does not handle`);
  }
  const lines = (message.field ?? []).map((field) => {
    const entryName = field.typeName?.split('.').pop() ?? '';
    const entry = field.label === LABEL_REPEATED && field.type === TYPE_MESSAGE ? mapEntries.get(entryName) : undefined;
    if (entry) {
      const [key, value] = entry.field ?? [];
      return `  map<${fieldType(key)}, ${fieldType(value)}> ${field.name} = ${field.number};`;
    }
    const label = field.label === LABEL_REPEATED ? 'repeated' : 'optional';
    return `  ${label} ${fieldType(field)} ${field.name} = ${field.number};`;
  });
  return `message ${message.name} {\n${lines.join('\n')}${lines.length ? '\n' : ''}}\n`;
}

export function renderProtoFile(file: IFileDescriptorProto, versionLabel: string): string {
  const parts = [
    LICENSE_HEADER,
    `// Upstream: ${file.name} as compiled into ${versionLabel}, rendered from its embedded descriptor\n`
      + '// by server/protobuf/extract-descriptors.ts (documentation comments are not part of descriptors).\n',
    `syntax = "${file.syntax || 'proto2'}";\n`,
    `package ${file.package};\n`,
    // gogo.proto only carries Go code-generation options, which descriptors do not keep either.
    (file.dependency ?? []).filter((dep: string) => !dep.startsWith('github.com/gogo/'))
      .map((dep: string) => `import "${dep}";\n`).join(''),
    file.options?.goPackage ? `option go_package = "${file.options.goPackage}";\n` : '',
    ...(file.messageType ?? []).map(renderMessage),
  ];
  return parts.filter(Boolean).join('\n');
}

function main(): void {
  const [binaryPath, versionLabel = 'kubectl'] = process.argv.slice(2);
  if (!binaryPath) throw new Error('usage: extract-descriptors.ts <kubectl binary> [version label]');
  const descriptors = findEmbeddedDescriptors(fs.readFileSync(binaryPath));
  const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'proto');
  for (const name of VENDORED_PROTO_FILES) {
    const file = descriptors.get(name);
    if (!file) throw new Error(`${name} not found in ${binaryPath}`);
    const target = path.join(outDir, name);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, renderProtoFile(file, versionLabel));
    console.log(`wrote ${path.relative(process.cwd(), target)}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
