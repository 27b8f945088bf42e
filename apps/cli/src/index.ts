export { createProgram, EXIT_FAILURE, EXIT_USAGE, run, UsageError } from "./program";
