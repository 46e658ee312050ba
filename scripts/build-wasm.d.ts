/** Types of scripts/build-wasm.js, for the test that checks the committed kernel. */
export function assemble(): Promise<Buffer>;
export function source(bytes: Buffer): string;
