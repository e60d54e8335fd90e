// The one Node global the bundled modules mention: grammar/parser.ts reads
// process.env.NETC_VALIDATE_GRAMMAR, which esbuild replaces with a constant (src/web/build.ts).
declare const process: { env: Record<string, string | undefined> };

// Stylesheets are bundled by esbuild into app.css.
declare module '*.css';
