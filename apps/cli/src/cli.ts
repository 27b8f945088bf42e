#!/usr/bin/env node
import { run } from "./program";

run().then((code) => {
  process.exitCode = code;
});
