#!/usr/bin/env node
// Entry point for `npx kubefacade`: runs the built JavaScript in dist/ (`npm run build`; `npm ci` and
// `npm pack` build it through the `prepare` script). No TypeScript loader at run time.
let runCli;
try {
  ({ runCli } = await import('../dist/cli.js'));
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/cli.js')) {
    console.error('error: kubefacade is not built: run `npm run build` (or `npm ci`) first');
    process.exit(1);
  }
  throw err;
}
try {
  await runCli(process.argv);
} catch (err) {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
