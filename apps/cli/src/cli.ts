#!/usr/bin/env node
import { exitQuietlyOnBrokenPipe } from "./pipes";
import { run } from "./program";

exitQuietlyOnBrokenPipe();
run().then((code) => {
  process.exitCode = code;
});
