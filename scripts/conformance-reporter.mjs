// A node:test reporter for `npm run conformance`: one JSON line per finished test (name, file,
// passed or not), which scripts/conformance.ts matches against the catalogue's testnames.
export default async function* conformanceReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { name, file, skip, todo, details } = event.data;
    const passed = event.type === 'test:pass' && !skip && !todo;
    // describe() blocks report too: marked, so that only tests are matched against testnames.
    const suite = details?.type === 'suite';
    yield `${JSON.stringify({ name, file, passed, skipped: Boolean(skip || todo), suite })}\n`;
  }
}
