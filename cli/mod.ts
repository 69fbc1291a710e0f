/**
 * The einconv command line as a library: {@linkcode main} runs a command line
 * (`expr`, `path`, `dot`, `bench`, `demo`) against given output streams and returns its
 * exit status; {@linkcode runDemo} runs the Quick-start demo.
 *
 * @module
 */
export { type CliIo, main } from "./main.ts";
export { runDemo } from "./demo.ts";
