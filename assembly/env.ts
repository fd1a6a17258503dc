/**
 * Imports from the host. The file is named env.ts because AssemblyScript imports an ambient
 * function from the module named after its file, and "env" is the customary module name.
 */

/** Asks the page store for a page; writes its encoded bytes at transfer; -1 if never stored. */
export declare function loadPage(image: f64, page: f64): i32;

/** Throws the errno with that code in JS; never returns. */
export declare function raise(code: i32): void;
